// RequestsFunction: employees' requests (заявления) and their approvals,
// processing, deputies, and the responsible person's request settings.
package main

import (
	"github.com/kabinet/kabinet/shared/app"
	"github.com/kabinet/kabinet/shared/secrets/awssecrets"
)

func main() { app.Main("RequestsFunction", app.Secrets(awssecrets.New)) }
