package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/spf13/cobra"

	"github.com/helpline-it/helpline/config"
)

func newConfigCmd(d *Deps) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Check the configuration file or print an example",
		Long: `The whole switchboard is set in one YAML file. 'helpline config example'
prints a complete, commented example (the reference for every key) and
'helpline config check FILE' reports every problem in a file at once.`,
	}
	cmd.AddCommand(newConfigCheckCmd(d), newConfigExampleCmd(d))
	return cmd
}

func newConfigCheckCmd(d *Deps) *cobra.Command {
	var secrets bool
	cmd := &cobra.Command{
		Use:   "check FILE",
		Short: "Report every problem in a configuration file",
		Long: `Reads FILE ("-" for stdin) and prints every problem on stderr, one a line:

  FILE:LINE: key.path: what is wrong

then exits with status 2. A valid file prints 'FILE: ok' and exits 0.
With --secrets, also reads every secret from its environment variable or
file, as 'helpline serve' would, and reports the ones that are missing
(values are never printed).`,
		Example: `  helpline config check /etc/helpline/helpline.yaml
  helpline config example | helpline config check -`,
		Args: argsNamed("FILE"),
		RunE: func(c *cobra.Command, args []string) error {
			return checkConfig(c, d, args[0], secrets)
		},
	}
	cmd.Flags().BoolVar(&secrets, "secrets", false, "also resolve every secret from the environment or its file")
	return cmd
}

func checkConfig(c *cobra.Command, d *Deps, file string, secrets bool) error {
	cfg, err := loadConfig(c, d, file)
	if err != nil {
		return err
	}
	if secrets {
		if _, err := cfg.Secrets(d.Getenv); err != nil {
			var se *config.SecretError
			for _, e := range unjoin(err) {
				if errors.As(e, &se) {
					fmt.Fprintf(d.Stderr, "%s: %v\n", cfg.File, se)
				}
			}
			return exitStatus(exitUsage)
		}
	}
	_, err = fmt.Fprintf(d.Stdout, "%s: ok\n", cfg.File)
	return err
}

// loadConfig reads the configuration file for command c ("-" reads
// stdin). Every command that needs the configuration loads it through
// here, so a bad file is reported the same way everywhere: each problem
// on its own line on stderr, then exit status 2. A missing file is a
// usage error naming it; an unreadable one a failure (status 1).
func loadConfig(c *cobra.Command, d *Deps, file string) (*config.Config, error) {
	var cfg *config.Config
	var err error
	if file == "-" {
		data, rerr := io.ReadAll(d.Stdin)
		if rerr != nil {
			return nil, fmt.Errorf("%sreading stdin: %w", prefix(c), rerr)
		}
		cfg, err = config.Parse("stdin", data)
	} else {
		cfg, err = config.Load(file)
	}
	var errs config.Errors
	switch {
	case errors.As(err, &errs):
		for _, e := range errs {
			fmt.Fprintln(d.Stderr, e)
		}
		return nil, exitStatus(exitUsage)
	case errors.Is(err, fs.ErrNotExist):
		return nil, usageErrorf("%s%s: no such file", prefix(c), file)
	case err != nil:
		return nil, err // "config: read FILE: …"
	}
	return cfg, nil
}

// unjoin lists the errors joined by errors.Join (or err alone).
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func newConfigExampleCmd(d *Deps) *cobra.Command {
	return &cobra.Command{
		Use:   "example",
		Short: "Print a complete, commented example configuration",
		Long: `Prints the example configuration: every key with its default and what it
does, the seed service's six languages and opening hours, and a few
operators. It passes 'helpline config check' as it is (the same text is
config/example.yaml in the source tree).`,
		Example: `  helpline config example > /etc/helpline/helpline.yaml`,
		Args:    argsNamed(),
		RunE: func(*cobra.Command, []string) error {
			_, err := d.Stdout.Write(config.ExampleYAML())
			return err
		},
	}
}
