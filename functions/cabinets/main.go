// CabinetsFunction: the responsible person's cabinet administration (list,
// counts, bulk actions) and cabinet settings.
package main

import (
	"github.com/kabinet/kabinet/shared/app"
	"github.com/kabinet/kabinet/shared/secrets/awssecrets"
)

func main() { app.Main("CabinetsFunction", app.Secrets(awssecrets.New)) }
