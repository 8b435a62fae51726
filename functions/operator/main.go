// OperatorFunction: the deployment's operator lists organizations with their
// service period and statistics, and extends or activates a period.
package main

import (
	"github.com/kabinet/kabinet/shared/app"
	"github.com/kabinet/kabinet/shared/secrets/awssecrets"
)

func main() { app.Main("OperatorFunction", app.Secrets(awssecrets.New)) }
