// RequestsFunction: employees' requests (заявления) and their approvals,
// processing, deputies, and the responsible person's request settings.
package main

import "github.com/kabinet/kabinet/shared/app"

func main() { app.Main("RequestsFunction") }
