// NoticesFunction: the employer system announces notices (payslip ready,
// vacation schedule) by API key; the responsible person reads the
// notification list and sets the notification settings and templates.
package main

import (
	"github.com/kabinet/kabinet/shared/app"
	"github.com/kabinet/kabinet/shared/secrets/awssecrets"
)

func main() { app.Main("NoticesFunction", app.Secrets(awssecrets.New)) }
