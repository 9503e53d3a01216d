// Command helpline is the switchboard's one binary: it serves calls, shows
// the live queue, manages the blacklist, writes the report and checks the
// configuration. See `helpline --help`.
//
// The layout follows cli/cli: main.go only calls run, which returns the
// exit status, so tests run the whole CLI in process (execute with a Deps
// of buffers, a fake environment and a fake clock). root.go builds the
// tree and is the one place commands are registered; each command lives in
// its own file as a newXxxCmd constructor.
//
// # Adding a command
//
//  1. Write foo.go with func newFooCmd(d *Deps) *cobra.Command. Take
//     stdout, stderr, stdin, the environment and the clock from d, never
//     from os; use cmd.Context() for cancellation (SIGINT/SIGTERM).
//  2. Add newFooCmd(d) to the root.AddCommand list in newRootCmd.
//  3. Give it Use, Short, Long (and Example); validate positional
//     arguments with argsNamed("FILE") (or cobra's validators); load the
//     configuration with loadConfig, which prints every problem and exits 2.
//  4. Return errors from RunE. Plain errors exit 1 (the command ran and
//     failed); usageErrorf("%s…", prefix(cmd), …) exits 2 (bad flag value,
//     bad argument); exitStatus(n) exits n silently after the command has
//     printed its own diagnostics. Any error with an ExitCode() int method
//     sets the status. Flag parse errors, unknown subcommands and missing
//     subcommands of a group are handled by the root: one line on stderr,
//     status 2.
//
// TestEveryCommand checks every registered command answers --help and
// turns a bad flag into one line with status 2, so a new command is held
// to the rules without writing that test again.
package main
