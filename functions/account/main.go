// AccountFunction: GET /v1/me and the organization's API keys.
package main

import (
	"github.com/kabinet/kabinet/shared/app"
	"github.com/kabinet/kabinet/shared/secrets/awssecrets"
)

func main() { app.Main("AccountFunction", app.Secrets(awssecrets.New)) }
