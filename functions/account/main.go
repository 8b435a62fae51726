// AccountFunction: GET /v1/me and the organization's API keys.
package main

import "github.com/kabinet/kabinet/shared/app"

func main() { app.Main("AccountFunction") }
