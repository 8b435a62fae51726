// AuthFunction: one-time codes, password setup, sign-in and refresh, and
// the employee's cabinet activation by invitation.
package main

import (
	"github.com/kabinet/kabinet/shared/app"
	"github.com/kabinet/kabinet/shared/phone"
)

func main() { app.Main("AuthFunction", app.Phones(phone.ParseMobile)) }
