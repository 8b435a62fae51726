// AuthFunction: one-time codes, password setup, sign-in and refresh, and
// the employee's cabinet activation by invitation. It does not link
// libphonenumber (no app.Phones): sign-in normalizes a phone login with
// domain.PhoneLogin, and infra/archtest keeps it that way. app.Run, not
// app.Main, so that it links only its own use cases.
package main

import (
	"github.com/kabinet/kabinet/shared/app"
	"github.com/kabinet/kabinet/shared/secrets/awssecrets"
)

func main() { app.Run(app.Auth(), app.Secrets(awssecrets.New)) }
