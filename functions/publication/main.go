// PublicationFunction: the employer system publishes departments, employees
// and the director, by API key.
package main

import (
	"github.com/kabinet/kabinet/shared/app"
	"github.com/kabinet/kabinet/shared/phone"
)

func main() { app.Main("PublicationFunction", app.Phones(phone.ParseMobile)) }
