package main

import (
	"github.com/spf13/cobra"
)

// newCompletionCmd prints shell completion scripts. It replaces cobra's
// default command so that a missing or unknown shell is a usage error
// like any other.
func newCompletionCmd(d *Deps) *cobra.Command {
	shells := []string{"bash", "zsh", "fish", "powershell"}
	return &cobra.Command{
		Use:   "completion SHELL",
		Short: "Print the shell completion script (bash, zsh, fish, powershell)",
		Long: `Prints a script that completes helpline's commands and flags in SHELL.

  bash:  helpline completion bash > /etc/bash_completion.d/helpline
  zsh:   helpline completion zsh > "${fpath[1]}/_helpline"
  fish:  helpline completion fish > ~/.config/fish/completions/helpline.fish`,
		ValidArgs: shells,
		Args:      argsNamed("SHELL"),
		RunE: func(c *cobra.Command, args []string) error {
			root := c.Root()
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(d.Stdout, true)
			case "zsh":
				return root.GenZshCompletion(d.Stdout)
			case "fish":
				return root.GenFishCompletion(d.Stdout, true)
			case "powershell":
				return root.GenPowerShellCompletionWithDesc(d.Stdout)
			}
			return usageErrorf("%sunknown shell %q (bash, zsh, fish or powershell)", prefix(c), args[0])
		},
	}
}
