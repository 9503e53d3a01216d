package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

func newVersionCmd(d *Deps) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of this binary",
		Long: `Prints the module version, the commit it was built from (when the build
recorded it) and the Go version, on one line. Same as 'helpline --version'.`,
		Args: argsNamed(),
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprintln(d.Stdout, versionString())
			return err
		},
	}
}

// versionString describes the binary from the build information Go
// embeds: "helpline v1.2.0 (commit 1a2b3c4d5e6f) go1.26.0 linux/amd64".
func versionString() string {
	version, commit, dirty := "(devel)", "", false
	if info, ok := debug.ReadBuildInfo(); ok {
		if info.Main.Version != "" {
			version = info.Main.Version
		}
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				commit = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
	}
	s := "helpline " + version
	if commit != "" {
		if len(commit) > 12 {
			commit = commit[:12]
		}
		if dirty {
			commit += "-dirty"
		}
		s += " (commit " + commit + ")"
	}
	return s + " " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH
}
