// EmployeesFunction: the responsible person lists and views published employees.
package main

import "github.com/kabinet/kabinet/shared/app"

func main() { app.Main("EmployeesFunction") }
