package sounds

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Synth renders text in a language to a WAV file at out: 8 kHz, mono,
// signed 16-bit PCM, the format Asterisk's format_wav plays as is.
type Synth interface {
	Render(ctx context.Context, lang, text, out string) error
}

// ErrToolsMissing is wrapped by LookupEspeak when espeak-ng or sox is not
// installed.
var ErrToolsMissing = errors.New("text-to-speech tools missing")

// Espeak is the production Synth: espeak-ng speaks the text into a WAV
// file, sox converts it to 8 kHz mono 16-bit and normalises its level.
// The text goes through a file, never the command line, so no text can
// be read as an option.
type Espeak struct {
	// EspeakPath and SoxPath are the programs (see LookupEspeak).
	EspeakPath, SoxPath string
	// Speed is espeak-ng's words per minute (default 150: a caller in
	// distress should not have to strain to follow).
	Speed int
	// run runs a command; tests replace it.
	run func(ctx context.Context, name string, args ...string) error
}

// LookupEspeak finds espeak-ng and sox with lookPath (exec.LookPath in
// production). When one is missing, the error says which Debian packages
// to install.
func LookupEspeak(lookPath func(string) (string, error)) (*Espeak, error) {
	e := &Espeak{Speed: 150}
	var missing []string
	var err error
	if e.EspeakPath, err = lookPath("espeak-ng"); err != nil {
		missing = append(missing, "espeak-ng")
	}
	if e.SoxPath, err = lookPath("sox"); err != nil {
		missing = append(missing, "sox")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%w: %s not found; on Debian or Ubuntu install them with: apt-get install %s",
			ErrToolsMissing, strings.Join(missing, " and "), strings.Join(missing, " "))
	}
	return e, nil
}

// Voice is the espeak-ng voice of a language code: the code itself, in
// lower case (it, en, fr, es, ar, de; pt-BR → pt-br).
func Voice(lang string) string { return strings.ToLower(lang) }

// Commands returns the two commands Render runs for a text already in
// textFile: espeak-ng into tmp, then sox from tmp into out.
func (e *Espeak) Commands(lang, textFile, tmp, out string) [][]string {
	speed := e.Speed
	if speed <= 0 {
		speed = 150
	}
	return [][]string{
		{e.EspeakPath, "-v", Voice(lang), "-s", fmt.Sprint(speed), "-f", textFile, "-w", tmp},
		{e.SoxPath, tmp, "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", out, "gain", "-n", "-3"},
	}
}

// Render implements Synth.
func (e *Espeak) Render(ctx context.Context, lang, text, out string) error {
	dir, err := os.MkdirTemp("", "helpline-prompt-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	textFile := filepath.Join(dir, "text.txt")
	if err := os.WriteFile(textFile, []byte(text+"\n"), 0o600); err != nil {
		return err
	}
	run := e.run
	if run == nil {
		run = runCommand
	}
	for _, cmd := range e.Commands(lang, textFile, filepath.Join(dir, "espeak.wav"), out) {
		if err := run(ctx, cmd[0], cmd[1:]...); err != nil {
			return err
		}
	}
	return nil
}

// runCommand runs a program, returning its standard error in the error.
func runCommand(ctx context.Context, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if len(msg) > 300 {
			msg = msg[:300] + "…"
		}
		return fmt.Errorf("%s: %w: %s", filepath.Base(name), err, msg)
	}
	return nil
}

// Build renders every item into dir/<Name>.wav with synth, creating the
// directories (0755) it needs. Each file is rendered to a temporary name
// beside it and renamed into place, so Asterisk never plays half a file.
// progress, if not nil, is called after each file. It stops at the first
// failure, naming the file and the prompt it comes from.
func Build(ctx context.Context, dir string, items []Item, synth Synth, progress func(done int, it Item)) error {
	for i, it := range items {
		if err := ctx.Err(); err != nil {
			return err
		}
		out := filepath.Join(dir, filepath.FromSlash(it.Name)+".wav")
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return fmt.Errorf("sounds: %w", err)
		}
		tmp := filepath.Join(filepath.Dir(out), "."+filepath.Base(out)+".tmp.wav")
		if err := synth.Render(ctx, it.Lang, it.Text, tmp); err != nil {
			_ = os.Remove(tmp)
			return fmt.Errorf("sounds: rendering %s (%s): %w", it.Name, it.From, err)
		}
		if err := os.Chmod(tmp, 0o644); err != nil {
			_ = os.Remove(tmp)
			return fmt.Errorf("sounds: %w", err)
		}
		if err := os.Rename(tmp, out); err != nil {
			_ = os.Remove(tmp)
			return fmt.Errorf("sounds: %w", err)
		}
		if progress != nil {
			progress(i+1, it)
		}
	}
	return nil
}

// HoldMusicCommand returns the sox command that writes a placeholder for
// music on hold into out: a minute of soft, slowly alternating tones, 8 kHz
// mono 16-bit, quiet enough not to startle. It is a placeholder: callers
// deserve real, licensed music.
func (e *Espeak) HoldMusicCommand(out string) []string {
	return []string{e.SoxPath, "-n", "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", out,
		"synth", "60", "sine", "330", "sine", "392", "tremolo", "0.2", "60", "remix", "-", "fade", "q", "2", "60", "2", "gain", "-n", "-18"}
}

// HoldMusic writes the placeholder music on hold into dir/placeholder.wav.
func (e *Espeak) HoldMusic(ctx context.Context, dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("sounds: %w", err)
	}
	out := filepath.Join(dir, "placeholder.wav")
	tmp := filepath.Join(dir, ".placeholder.tmp.wav")
	run := e.run
	if run == nil {
		run = runCommand
	}
	cmd := e.HoldMusicCommand(tmp)
	if err := run(ctx, cmd[0], cmd[1:]...); err != nil {
		_ = os.Remove(tmp)
		return "", fmt.Errorf("sounds: music on hold: %w", err)
	}
	if err := os.Chmod(tmp, 0o644); err != nil {
		return "", fmt.Errorf("sounds: %w", err)
	}
	return out, os.Rename(tmp, out)
}
