package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/jonboulle/clockwork"
	"github.com/spf13/cobra"
)

// Exit statuses. Scripts (systemd units, CI, the statistics office's
// cron jobs) tell "called wrong" from "failed" by them.
const (
	exitOK      = 0
	exitFailure = 1 // the command ran and failed: Redis down, disk full, …
	exitUsage   = 2 // bad flag, bad or missing argument, invalid config file
)

// Deps is everything a command reaches outside itself. Commands take it
// from the root instead of touching os.*, so tests run the whole CLI in
// process with buffers, a fake environment and a fake clock.
type Deps struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Getenv looks up environment variables (secrets come from there).
	Getenv func(string) string
	// Clock is the time source for anything that waits or stamps times.
	Clock clockwork.Clock
}

// run is main without os.Exit: the real environment, a context cancelled
// by SIGINT/SIGTERM, and the exit status as its result.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return execute(ctx, args, &Deps{
		Stdin:  stdin,
		Stdout: stdout,
		Stderr: stderr,
		Getenv: os.Getenv,
		Clock:  clockwork.NewRealClock(),
	})
}

// newRootCmd builds the command tree. This is the one place where
// commands are registered: to add `helpline foo`, write newFooCmd in
// foo.go and add it to the list below.
//
// A command returns errors from RunE; execute maps them to exit statuses:
// errors with an ExitCode() int method (see usageErrorf and exitStatus)
// give that status, anything else from RunE gives 1, and cobra's own
// errors (bad flag, bad arguments, unknown command) give 2.
func newRootCmd(d *Deps) *cobra.Command {
	root := &cobra.Command{
		Use:   "helpline",
		Short: "Switchboard control plane for a national helpline",
		Long: `helpline turns a stock Asterisk into the switchboard of a national helpline:
language menu, queues by language skill, operators' feature codes, blacklist,
call records and the quarterly report. Everything is set in one YAML file;
start from 'helpline config example'.`,
		Version:       versionString(),
		SilenceUsage:  true,
		SilenceErrors: true,
		// Completion is our own command, with the same argument rules.
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true},
	}
	root.SetIn(d.Stdin)
	root.SetOut(d.Stdout)
	root.SetErr(d.Stderr)
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageErrorf("%s%v", prefix(c), err)
	})

	root.AddCommand(
		newConfigCmd(d),
		newVersionCmd(d),
		newCompletionCmd(d),
		newReportCmd(d),
		newCdrCmd(d),
		newDirectoryCmd(d),
		newQueueCmd(d),
		newDemoCmd(d),
		newBenchCmd(d),
		newBlacklistCmd(d),
		newOperatorsCmd(d),
		newServeCmd(d),
		newAsteriskConfigCmd(d),
		newPromptsCmd(d),
	)

	root.SetHelpCommand(newHelpCmd())
	finishTree(root)
	return root
}

// execute runs the CLI and returns the exit status. Every failure is one
// line on stderr, naming the command and what is wrong.
func execute(ctx context.Context, args []string, d *Deps) int {
	root := newRootCmd(d)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	var status exitStatus
	if errors.As(err, &status) {
		return int(status) // the command has already said why
	}
	code := exitUsage // cobra's own errors are all about how it was called
	var coder interface{ ExitCode() int }
	if errors.As(err, &coder) {
		code = coder.ExitCode()
	}
	msg := oneLine(err.Error())
	if code == exitUsage && cmd != nil {
		msg += fmt.Sprintf(" (see '%s --help')", cmd.CommandPath())
	}
	fmt.Fprintf(d.Stderr, "helpline: %s\n", msg)
	return code
}

// usageError is a bad flag or argument: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// ExitCode is 2.
func (e *usageError) ExitCode() int { return exitUsage }

// usageErrorf returns a usage error (exit status 2). Start the message
// with prefix(cmd) so that it names the command.
func usageErrorf(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// failure marks an error returned by a command's RunE: exit status 1.
type failure struct{ err error }

func (e *failure) Error() string { return e.err.Error() }
func (e *failure) Unwrap() error { return e.err }

// ExitCode is 1.
func (e *failure) ExitCode() int { return exitFailure }

// exitStatus ends the command with a status and no further message, for
// commands that have printed their own diagnostics (config check).
type exitStatus int

func (e exitStatus) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

// prefix is "config check: " for `helpline config check`, "" for the root:
// the start of messages about that command.
func prefix(c *cobra.Command) string {
	path := strings.TrimPrefix(c.CommandPath(), c.Root().Name())
	if path = strings.TrimSpace(path); path == "" {
		return ""
	}
	return path + ": "
}

// oneLine folds a multi-line message (some libraries add suggestions on
// new lines) into one.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}

// finishTree applies the rules every command follows, so that each
// newXxxCmd need not repeat them:
//   - a command with subcommands but no action says which subcommand is
//     missing or unknown (exit 2) instead of printing help with status 0;
//   - errors from RunE are failures (exit 1) unless they carry their own
//     exit code;
//   - flag errors are one-line usage errors naming the command.
func finishTree(c *cobra.Command) {
	for _, sub := range c.Commands() {
		finishTree(sub)
	}
	if c.HasSubCommands() && c.Run == nil && c.RunE == nil {
		c.Args = cobra.ArbitraryArgs
		c.RunE = groupRunE
		return
	}
	if run := c.RunE; run != nil {
		c.RunE = func(cmd *cobra.Command, args []string) error {
			err := run(cmd, args)
			var coder interface{ ExitCode() int }
			if err == nil || errors.As(err, &coder) {
				return err
			}
			return &failure{err}
		}
	}
}

// groupRunE runs when a command that only groups others is called without
// one of them.
func groupRunE(c *cobra.Command, args []string) error {
	if len(args) == 0 {
		return usageErrorf("%smissing command (%s)", prefix(c), strings.Join(subcommandNames(c), ", "))
	}
	hint := ""
	if c.SuggestionsMinimumDistance <= 0 {
		c.SuggestionsMinimumDistance = 2
	}
	if s := c.SuggestionsFor(args[0]); len(s) > 0 {
		hint = fmt.Sprintf(" (did you mean %q?)", s[0])
	}
	return usageErrorf("%sunknown command %q%s", prefix(c), args[0], hint)
}

func subcommandNames(c *cobra.Command) []string {
	var names []string
	for _, sub := range c.Commands() {
		if sub.IsAvailableCommand() {
			names = append(names, sub.Name())
		}
	}
	return names
}

// argsNamed accepts exactly the named positional arguments and says, in
// one line, which one is missing or which is extra.
func argsNamed(names ...string) cobra.PositionalArgs {
	return func(c *cobra.Command, args []string) error {
		switch {
		case len(args) < len(names):
			return usageErrorf("%smissing argument %s", prefix(c), names[len(args)])
		case len(args) > len(names):
			return usageErrorf("%sunexpected argument %q", prefix(c), args[len(names)])
		}
		return nil
	}
}

// newHelpCmd replaces cobra's help command, which answers an unknown
// topic with status 0.
func newHelpCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "help [command]",
		Short: "Help about any command",
		Args:  cobra.ArbitraryArgs,
		RunE: func(c *cobra.Command, args []string) error {
			target, rest, err := c.Root().Find(args)
			if err != nil || len(rest) > 0 {
				return usageErrorf("help: unknown command %q", strings.Join(args, " "))
			}
			return target.Help()
		},
	}
}
