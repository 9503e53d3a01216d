// Command helpline is the switchboard's one binary: it serves calls,
// shows the live queue, manages the blacklist, writes the report and
// checks the configuration. See `helpline --help`.
package main

import (
	"os"
	_ "time/tzdata" // time zones work in minimal containers without zoneinfo
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}
