// EmployeesFunction: the responsible person lists and views published employees.
package main

import (
	"github.com/kabinet/kabinet/shared/app"
	"github.com/kabinet/kabinet/shared/secrets/awssecrets"
)

func main() { app.Main("EmployeesFunction", app.Secrets(awssecrets.New)) }
