// ConnectFunction: POST /v1/organizations.
package main

import (
	"github.com/kabinet/kabinet/shared/app"
	"github.com/kabinet/kabinet/shared/phone"
)

func main() { app.Main("ConnectFunction", app.Phones(phone.ParseMobile)) }
