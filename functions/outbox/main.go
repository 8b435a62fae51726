// OutboxFunction: on a schedule, queues staged notifications that are due
// (never queued, or held for quiet hours).
package main

import "github.com/kabinet/kabinet/shared/app"

func main() { app.Main("OutboxFunction") }
