// InvitationJobFunction: on a schedule, sends automatic invitations and
// reminders and marks expired invitations.
package main

import "github.com/kabinet/kabinet/shared/app"

func main() { app.Main("InvitationJobFunction") }
