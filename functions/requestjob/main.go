// RequestJobFunction: on a schedule, reminds approvers of requests waiting
// past the reminder time and escalates those waiting past the escalation
// time to the next approver up.
package main

import "github.com/kabinet/kabinet/shared/app"

func main() { app.Main("RequestJobFunction") }
