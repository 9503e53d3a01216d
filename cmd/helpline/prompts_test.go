package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jonboulle/clockwork"
	"github.com/spf13/cobra"

	"github.com/helpline-it/helpline/config"
)

func TestPromptsList(t *testing.T) {
	path := writeTemp(t, "helpline.yaml", string(config.ExampleYAML()))
	r := runCLI(t, nil, "", "prompts", "list", "--config", path)
	if r.code != 0 {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	for _, want := range []string{
		"helpline/it/menu.wav\tit\tPer l'italiano, premi\n",
		"helpline/de/minutes.wav\tde\tMinuten.\n",
		"ar/digits/5.wav\tar\t5\n",
		"helpline/en/queue_position_end.wav\ten\tin the queue.\n",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q", want)
		}
	}
	if r.stderr != "" {
		t.Errorf("the example's built-in prompts warned: %q", r.stderr)
	}
	// A prompt whose sound list stops at the number leaves the words
	// after it unsaid: warned on stderr, not fatal.
	cut := writeTemp(t, "helpline.yaml", strings.Replace(string(config.ExampleYAML()), "\n  en:\n    # A recording",
		"\n  en:\n    queue_position: {text: \"You are number {position} in the queue.\", sound: [sound:helpline/en/queue_position, \"number:{position}\"]}\n    # A recording", 1))
	r = runCLI(t, nil, "", "prompts", "list", "--config", cut)
	if r.code != 0 {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	if got := len(lines(r.stderr)); got != 1 || !strings.Contains(r.stderr, "prompts list: warning: prompts.en.queue_position") {
		t.Errorf("stderr (%d lines): %q", got, r.stderr)
	}
}

func TestPromptsBuildErrors(t *testing.T) {
	good := writeTemp(t, "helpline.yaml", string(config.ExampleYAML()))
	bad := writeTemp(t, "helpline.yaml", strings.Replace(string(config.ExampleYAML()),
		"sound: sound:helpline/it/welcome", "sound: [sound:helpline/it/a, sound:helpline/it/b]", 1))
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"missing out", []string{"prompts", "build", "--config", good}, 2, "prompts build: missing --out"},
		{"missing config", []string{"prompts", "build", "--out", t.TempDir()}, 2, "prompts build: missing --config"},
		{"unsayable prompt", []string{"prompts", "build", "--config", bad, "--out", t.TempDir()}, 2,
			"prompts build: prompts.it.welcome: cannot tell which words of the text sound:helpline/it/b says"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, nil, "", tc.args...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.stderr) {
				t.Errorf("exit %d, stderr %q; want %d and %q", r.code, r.stderr, tc.code, tc.stderr)
			}
		})
	}
}

// TestPromptsBuildWithoutTools runs the command with a PATH lacking the
// tools: one line saying what to install, exit 1, nothing written.
func TestPromptsBuildWithoutTools(t *testing.T) {
	path := writeTemp(t, "helpline.yaml", string(config.ExampleYAML()))
	out := t.TempDir()
	var stdout, stderr bytes.Buffer
	d := &Deps{Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }, Clock: clockwork.NewFakeClock()}
	cmd := &cobra.Command{Use: "build"}
	cmd.SetContext(context.Background())
	err := runPromptsBuild(cmd, d, promptsOptions{config: path, out: out},
		func(string) (string, error) { return "", errors.New("not found") })
	if err == nil || !strings.Contains(err.Error(), "apt-get install espeak-ng sox") {
		t.Errorf("got %v", err)
	}
	if stdout.Len() != 0 {
		t.Errorf("stdout %q", stdout.String())
	}
}
