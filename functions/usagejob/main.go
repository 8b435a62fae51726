// UsageJobFunction: once a day, the usage aggregates of the day that ended,
// for the organizations that allow usage statistics.
package main

import "github.com/kabinet/kabinet/shared/app"

func main() { app.Main("UsageJobFunction") }
