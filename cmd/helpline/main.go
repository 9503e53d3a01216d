package main

import (
	"os"
	_ "time/tzdata" // time zones work in minimal containers without zoneinfo
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
