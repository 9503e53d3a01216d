package main

import (
	"errors"
	"fmt"
	"os/exec"

	"github.com/spf13/cobra"

	"github.com/helpline-it/helpline/asterisk/sounds"
)

func newPromptsCmd(d *Deps) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "prompts",
		Short: "Render the prompts as placeholder recordings",
		Long: `The switchboard's prompts are texts in helpline.yaml, played by Asterisk as
sound files. 'helpline prompts build' speaks the texts with espeak-ng into
those files, so a new installation speaks before a studio has recorded
anything; 'helpline prompts list' shows which files and words they are.`,
	}
	cmd.AddCommand(newPromptsBuildCmd(d), newPromptsListCmd(d))
	return cmd
}

// promptsOptions are the flags of `helpline prompts build`.
type promptsOptions struct {
	config, out, moh string
}

func newPromptsBuildCmd(d *Deps) *cobra.Command {
	var o promptsOptions
	cmd := &cobra.Command{
		Use:   "build --config FILE --out DIR",
		Short: "Speak the prompt texts into 8 kHz WAV files with espeak-ng and sox",
		Long: `Renders every sound file helpline.yaml plays (sound:helpline/<lang>/<name>
becomes DIR/helpline/<lang>/<name>.wav) from the prompt texts, in each
prompt's language, as 8 kHz mono 16-bit WAV, plus DIR/<lang>/digits/N.wav
for the digits and numbers Asterisk says itself (menu keys, queue
positions, minutes). Point Asterisk's sounds directory at DIR (it is
/var/lib/asterisk/sounds). Where a text has a placeholder, the file says
the words before it and Asterisk says the value.

These are placeholders until a studio records the prompts: replace the
files, change nothing else. Needs espeak-ng and sox (Debian packages
espeak-ng and sox). --moh DIR also writes a placeholder music on hold
(DIR/placeholder.wav) for the directory musiconhold.conf names.`,
		Example: `  helpline prompts build --config /etc/helpline/helpline.yaml --out /var/lib/asterisk/sounds \
      --moh /var/lib/asterisk/moh/helpline`,
		Args: argsNamed(),
		RunE: func(c *cobra.Command, _ []string) error {
			return runPromptsBuild(c, d, o, exec.LookPath)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.config, "config", "", "helpline's configuration file (required)")
	f.StringVar(&o.out, "out", "", "sounds directory to write into (required)")
	f.StringVar(&o.moh, "moh", "", "also write a placeholder music on hold into this directory")
	return cmd
}

func runPromptsBuild(c *cobra.Command, d *Deps, o promptsOptions, lookPath func(string) (string, error)) error {
	if o.config == "" {
		return usageErrorf("%smissing --config", prefix(c))
	}
	if o.out == "" {
		return usageErrorf("%smissing --out", prefix(c))
	}
	cfg, err := loadConfig(c, d, o.config)
	if err != nil {
		return err
	}
	items, warnings, err := sounds.Plan(cfg)
	if err := reportPromptProblems(c, d, warnings, err); err != nil {
		return err
	}
	synth, err := sounds.LookupEspeak(lookPath)
	if err != nil {
		return err // says what to install; exit 1
	}
	err = sounds.Build(c.Context(), o.out, items, synth, func(done int, it sounds.Item) {
		if done%50 == 0 || done == len(items) {
			fmt.Fprintf(d.Stderr, "%d/%d %s\n", done, len(items), it.Name)
		}
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(d.Stdout, "wrote %d sound files under %s\n", len(items), o.out)
	if o.moh != "" {
		path, err := synth.HoldMusic(c.Context(), o.moh)
		if err != nil {
			return err
		}
		fmt.Fprintf(d.Stdout, "wrote placeholder music on hold %s\n", path)
	}
	return nil
}

// reportPromptProblems prints warnings, and problems with exit status 2.
func reportPromptProblems(c *cobra.Command, d *Deps, warnings sounds.Problems, err error) error {
	for _, w := range warnings {
		fmt.Fprintf(d.Stderr, "%swarning: %v\n", prefix(c), w)
	}
	var ps sounds.Problems
	if errors.As(err, &ps) {
		for _, p := range ps {
			fmt.Fprintf(d.Stderr, "%s%v\n", prefix(c), p)
		}
		return exitStatus(exitUsage)
	}
	return err
}

func newPromptsListCmd(d *Deps) *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "list --config FILE",
		Short: "List the sound files the prompts need and the words each says",
		Long: `Prints one line per sound file 'prompts build' would write: its path under
the sounds directory, its language and its words, tab-separated: the
script for a studio. Needs no text-to-speech tools.`,
		Args: argsNamed(),
		RunE: func(c *cobra.Command, _ []string) error {
			if file == "" {
				return usageErrorf("%smissing --config", prefix(c))
			}
			cfg, err := loadConfig(c, d, file)
			if err != nil {
				return err
			}
			items, warnings, err := sounds.Plan(cfg)
			if err := reportPromptProblems(c, d, warnings, err); err != nil {
				return err
			}
			for _, it := range items {
				if _, err := fmt.Fprintf(d.Stdout, "%s.wav\t%s\t%s\n", it.Name, it.Lang, it.Text); err != nil {
					return err
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&file, "config", "", "helpline's configuration file (required)")
	return cmd
}
