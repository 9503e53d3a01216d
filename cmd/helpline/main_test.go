package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/jonboulle/clockwork"
	"github.com/spf13/cobra"

	"github.com/helpline-it/helpline/config"
)

// result is what one in-process run of the CLI produced.
type result struct {
	code           int
	stdout, stderr string
}

// runCLI runs the CLI in process with the given environment and stdin.
func runCLI(t *testing.T, env map[string]string, stdin string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := execute(context.Background(), args, &Deps{
		Stdin:  strings.NewReader(stdin),
		Stdout: &stdout,
		Stderr: &stderr,
		Getenv: func(k string) string { return env[k] },
		Clock:  clockwork.NewFakeClock(),
	})
	return result{code, stdout.String(), stderr.String()}
}

func lines(s string) []string {
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// writeTemp writes content to a file in a fresh directory.
func writeTemp(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCLI(t *testing.T) {
	example := writeTemp(t, "helpline.yaml", string(config.ExampleYAML()))
	broken := "../../config/testdata/references.yaml"
	keyFile := writeTemp(t, "hmac.key", "0123456789abcdef0123456789abcdef\n")
	withKeyFile := writeTemp(t, "helpline.yaml", strings.Replace(string(config.ExampleYAML()),
		"hmac_key_env: HELPLINE_HMAC_KEY", "hmac_key_file: "+keyFile, 1))
	topLevel := subcommandNames(newRootCmd(&Deps{}))
	if !slices.Contains(topLevel, "config") || !slices.Contains(topLevel, "version") {
		t.Fatalf("top-level commands %q lack config or version", topLevel)
	}
	allSecrets := map[string]string{
		"HELPLINE_ARI_PASSWORD": "pw-from-env",
		"HELPLINE_HMAC_KEY":     "0123456789abcdef0123456789abcdef",
	}

	tests := []struct {
		name   string
		args   []string
		env    map[string]string
		stdin  string
		code   int
		stdout []string // substrings
		stderr []string // exact lines (nil: stderr must be empty)
	}{
		// Usage errors: one line, naming what is wrong, status 2.
		{name: "no command", code: 2,
			stderr: []string{"helpline: missing command (" + strings.Join(topLevel, ", ") + ") (see 'helpline --help')"}},
		{name: "unknown command", args: []string{"confg"}, code: 2,
			stderr: []string{`helpline: unknown command "confg" (did you mean "config"?) (see 'helpline --help')`}},
		{name: "unknown flag", args: []string{"--colour"}, code: 2,
			stderr: []string{"helpline: unknown flag: --colour (see 'helpline --help')"}},
		{name: "config without subcommand", args: []string{"config"}, code: 2,
			stderr: []string{"helpline: config: missing command (check, example) (see 'helpline config --help')"}},
		{name: "config unknown subcommand", args: []string{"config", "chek"}, code: 2,
			stderr: []string{`helpline: config: unknown command "chek" (did you mean "check"?) (see 'helpline config --help')`}},
		{name: "check without file", args: []string{"config", "check"}, code: 2,
			stderr: []string{"helpline: config check: missing argument FILE (see 'helpline config check --help')"}},
		{name: "check with two files", args: []string{"config", "check", "a.yaml", "b.yaml"}, code: 2,
			stderr: []string{`helpline: config check: unexpected argument "b.yaml" (see 'helpline config check --help')`}},
		{name: "check bad flag", args: []string{"config", "check", "--strict", example}, code: 2,
			stderr: []string{"helpline: config check: unknown flag: --strict (see 'helpline config check --help')"}},
		{name: "check flag after file", args: []string{"config", "check", example, "-x"}, code: 2,
			stderr: []string{"helpline: config check: unknown shorthand flag: 'x' in -x (see 'helpline config check --help')"}},
		{name: "check missing file", args: []string{"config", "check", "/nonexistent/helpline.yaml"}, code: 2,
			stderr: []string{"helpline: config check: /nonexistent/helpline.yaml: no such file (see 'helpline config check --help')"}},
		{name: "check bool flag with value", args: []string{"config", "check", "--secrets=maybe", example}, code: 2,
			stderr: []string{`helpline: config check: invalid argument "maybe" for "--secrets" flag: strconv.ParseBool: parsing "maybe": invalid syntax (see 'helpline config check --help')`}},
		{name: "example with argument", args: []string{"config", "example", "out.yaml"}, code: 2,
			stderr: []string{`helpline: config example: unexpected argument "out.yaml" (see 'helpline config example --help')`}},
		{name: "version with argument", args: []string{"version", "now"}, code: 2,
			stderr: []string{`helpline: version: unexpected argument "now" (see 'helpline version --help')`}},
		{name: "completion without shell", args: []string{"completion"}, code: 2,
			stderr: []string{"helpline: completion: missing argument SHELL (see 'helpline completion --help')"}},
		{name: "completion unknown shell", args: []string{"completion", "tcsh"}, code: 2,
			stderr: []string{`helpline: completion: unknown shell "tcsh" (bash, zsh, fish or powershell) (see 'helpline completion --help')`}},
		{name: "help unknown topic", args: []string{"help", "no-such-topic"}, code: 2,
			stderr: []string{`helpline: help: unknown command "no-such-topic" (see 'helpline help --help')`}},

		// config check.
		{name: "check valid", args: []string{"config", "check", example}, code: 0,
			stdout: []string{example + ": ok\n"}},
		{name: "check stdin", args: []string{"config", "check", "-"}, stdin: string(config.ExampleYAML()), code: 0,
			stdout: []string{"stdin: ok\n"}},
		{name: "check broken stdin", args: []string{"config", "check", "-"}, stdin: "service: [1]\n", code: 2,
			stderr: []string{
				"stdin:1: service: expected a string, got a list",
				"stdin: ari.url: missing: the base URL of Asterisk's HTTP server, e.g. http://127.0.0.1:8088",
				"stdin: ari.username: missing: the ARI user from Asterisk's ari.conf",
				"stdin: ari.password_env: missing: set password_env (an environment variable) or password_file (a file) to say where the secret is",
				"stdin: privacy.hmac_key_env: missing: set hmac_key_env (an environment variable) or hmac_key_file (a file) to say where the secret is",
				"stdin: languages: missing: define at least one language (e.g. it: {name: Italiano, digit: 1, hours: always})",
				"stdin: operators: missing: list at least one operator ({id, name, endpoint, languages})",
			}},
		{name: "check broken file", args: []string{"config", "check", broken}, code: 2,
			stderr: []string{
				broken + `:2: timezone: unknown time zone "Europe/Roma"`,
				broken + `:12: languages.fr.digit: digit 2 is already used by languages.en`,
				broken + `:13: languages.de: no operator answers in "de", so its queue would never be answered; add it to an operator's languages`,
				broken + `:14: ivr.default_language: "it" must have hours: always, since callers who choose nothing go there`,
				broken + `:15: ivr.welcome_languages[1]: "sq" is not defined under languages`,
				broken + `:17: operators[0].languages[2]: "pt" is not defined under languages`,
				broken + `:18: operators[1].id: "op1" is already the id of operators[0]`,
				broken + `:18: operators[1].languages[1]: "fr" is listed twice`,
				broken + `:19: operators[2].endpoint: "pjsip/op1" is already the endpoint of operators[0]`,
				broken + `:21: prompts.pt: "pt" is not defined under languages`,
			}},
		{name: "check secrets present", args: []string{"config", "check", "--secrets", example}, env: allSecrets, code: 0,
			stdout: []string{example + ": ok\n"}},
		{name: "check secrets from file", args: []string{"config", "check", "--secrets", withKeyFile},
			env: map[string]string{"HELPLINE_ARI_PASSWORD": "x"}, code: 0, stdout: []string{withKeyFile + ": ok\n"}},
		{name: "check secrets missing", args: []string{"config", "check", "--secrets", example}, code: 2,
			stderr: []string{
				example + ": ari.password: environment variable HELPLINE_ARI_PASSWORD: secret is missing: the variable is not set or empty",
				example + ": privacy.hmac_key: environment variable HELPLINE_HMAC_KEY: secret is missing: the variable is not set or empty",
			}},
		{name: "check without --secrets ignores env", args: []string{"config", "check", example}, code: 0,
			stdout: []string{": ok"}},

		// Runtime failure: status 1.
		{name: "check a directory", args: []string{"config", "check", "."}, code: 1,
			stderr: []string{"helpline: config: read .: is a directory"}},

		// Information.
		{name: "example", args: []string{"config", "example"}, code: 0,
			stdout: []string{"service: \"1522\"", "de:\n    name: Deutsch", "hmac_key_env: HELPLINE_HMAC_KEY"}},
		{name: "version", args: []string{"version"}, code: 0, stdout: []string{"helpline ", runtime.Version()}},
		{name: "--version", args: []string{"--version"}, code: 0, stdout: []string{"helpline ", runtime.Version()}},
		{name: "help", args: []string{"--help"}, code: 0, stdout: []string{"Usage:", "config", "report", "version"}},
		// Commands from other files follow the same rules.
		{name: "report bad value", args: []string{"report", "--format", "pdf"}, code: 2,
			stderr: []string{`helpline: report: invalid --format "pdf": want text, json, html or csv (see 'helpline report --help')`}},
		{name: "report extra argument", args: []string{"report", "q3"}, code: 2,
			stderr: []string{`helpline: unknown command "q3" for "helpline report" (see 'helpline report --help')`}},
		{name: "help command", args: []string{"help", "config", "check"}, code: 0,
			stdout: []string{"FILE:LINE: key.path: what is wrong", "--secrets"}},
		{name: "completion", args: []string{"completion", "bash"}, code: 0, stdout: []string{"bash completion V2 for helpline"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, tt.env, tt.stdin, tt.args...)
			if r.code != tt.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", r.code, tt.code, r.stdout, r.stderr)
			}
			for _, want := range tt.stdout {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("stdout does not contain %q:\n%s", want, r.stdout)
				}
			}
			if got := lines(r.stderr); strings.Join(got, "\n") != strings.Join(tt.stderr, "\n") {
				t.Errorf("stderr:\n%s\nwant:\n%s", r.stderr, strings.Join(tt.stderr, "\n"))
			}
			if tt.code != 0 && tt.stdout == nil && r.stdout != "" {
				t.Errorf("a failed command printed on stdout: %s", r.stdout)
			}
		})
	}
}

// TestEveryCommand holds every registered command, including those other
// packages add later, to the CLI's rules: --help works, and a bad flag is
// one line on stderr with status 2.
func TestEveryCommand(t *testing.T) {
	var walk func(c *cobra.Command)
	var paths [][]string
	walk = func(c *cobra.Command) {
		if c.Hidden {
			return
		}
		path := strings.Fields(c.CommandPath())[1:]
		paths = append(paths, path)
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRootCmd(&Deps{Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}, Getenv: func(string) string { return "" }}))
	if len(paths) < 6 {
		t.Fatalf("only %d commands found: %q", len(paths), paths)
	}
	for _, path := range paths {
		name := strings.Join(append([]string{"helpline"}, path...), " ")
		t.Run(name, func(t *testing.T) {
			r := runCLI(t, nil, "", append(path, "--help")...)
			if r.code != 0 || !strings.Contains(r.stdout, "Usage:") || r.stderr != "" {
				t.Errorf("%s --help: exit %d, stdout %q, stderr %q", name, r.code, r.stdout, r.stderr)
			}
			r = runCLI(t, nil, "", append(path, "--no-such-flag")...)
			if r.code != 2 || len(lines(r.stderr)) != 1 || !strings.Contains(r.stderr, "--no-such-flag") ||
				!strings.HasPrefix(r.stderr, "helpline: ") {
				t.Errorf("%s --no-such-flag: exit %d, stderr %q; want 2 and one line naming the flag", name, r.code, r.stderr)
			}
		})
	}
}

// TestExampleRoundTrip checks that what `config example` prints passes
// `config check`, through a file as an administrator would do it.
func TestExampleRoundTrip(t *testing.T) {
	r := runCLI(t, nil, "", "config", "example")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("config example: exit %d, stderr %q", r.code, r.stderr)
	}
	text := r.stdout
	path := writeTemp(t, "helpline.yaml", text)
	r = runCLI(t, nil, "", "config", "check", path)
	if r.code != 0 || r.stdout != path+": ok\n" || r.stderr != "" {
		t.Fatalf("config check of the example: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	// And a one-character break is caught, with its line.
	broken := strings.Replace(text, `to: "20:00"`, `to: "20:60"`, 1)
	path = writeTemp(t, "broken.yaml", broken)
	r = runCLI(t, nil, "", "config", "check", path)
	want := regexp.MustCompile(`^` + regexp.QuoteMeta(path) + `:\d+: languages\.en\.hours\[0\]\.to: "20:60" is not a time of day\n$`)
	if r.code != 2 || !want.MatchString(r.stderr) {
		t.Errorf("broken example: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestRun checks the real entry point wires the process's streams.
func TestRun(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"version"}, strings.NewReader(""), &stdout, &stderr); code != 0 {
		t.Fatalf("run version: exit %d, stderr %q", code, stderr.String())
	}
	if !strings.HasPrefix(stdout.String(), "helpline ") {
		t.Errorf("run version printed %q", stdout.String())
	}
}
