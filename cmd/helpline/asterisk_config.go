package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/helpline-it/helpline/asterisk"
	"github.com/helpline-it/helpline/config"
)

// asteriskConfigOptions are the flags of `helpline asterisk-config`.
type asteriskConfigOptions struct {
	config, site, out, sipSecrets string
	placeholder, exampleSite      bool
}

func newAsteriskConfigCmd(d *Deps) *cobra.Command {
	var o asteriskConfigOptions
	cmd := &cobra.Command{
		Use:   "asterisk-config --config FILE --site FILE --out DIR",
		Short: "Write Asterisk's configuration from helpline.yaml",
		Long: `Writes the configuration of the Asterisk that helpline drives into DIR:
http.conf, ari.conf, pjsip.conf, extensions.conf, modules.conf,
musiconhold.conf, rtp.conf and logger.conf. Operators, feature codes, the
ARI user and the Stasis application come from helpline.yaml (--config), so
they are declared once; what helpline.yaml does not model (the SIP
provider, the helpline's numbers, NAT, codecs) comes from a site file
(--site; print an example with --example-site).

Secrets are resolved now and written only into DIR, in files of mode 0600
(ari.conf, pjsip.conf): the ARI password from the source helpline.yaml
names (ari.password_env or ari.password_file), the trunk password from the
site file's trunk.password_env/_file, and each operator's SIP password from
the file --sip-secrets DIR/<operator id> (helpline.yaml has no place for
SIP credentials). With --password-placeholder no secret is read: the files
hold ${ARI_PASSWORD}, ${TRUNK_PASSWORD} and ${SIP_PASSWORD_<ID>} for a
template engine to fill in. Real secrets are never written inside a git
work tree.

The dialplan can reach nothing but the Stasis application: no context
reachable from the trunk or a softphone can dial out (toll fraud).
Values Asterisk would reject are refused first, every one at once, with
exit status 2; nothing is written then.`,
		Example: `  helpline asterisk-config --example-site > /etc/helpline/asterisk.yaml
  helpline asterisk-config --config /etc/helpline/helpline.yaml \
      --site /etc/helpline/asterisk.yaml --sip-secrets /etc/helpline/sip \
      --out /etc/asterisk`,
		Args: argsNamed(),
		RunE: func(c *cobra.Command, _ []string) error {
			return runAsteriskConfig(c, d, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.config, "config", "", "helpline's configuration file (required)")
	f.StringVar(&o.site, "site", "", "the site file: SIP provider, DIDs, NAT, codecs (required)")
	f.StringVar(&o.out, "out", "", "directory to write the files into, e.g. /etc/asterisk (required)")
	f.StringVar(&o.sipSecrets, "sip-secrets", "", "directory holding one file per operator id with her SIP password")
	f.BoolVar(&o.placeholder, "password-placeholder", false, "write ${NAME} placeholders instead of reading secrets")
	f.BoolVar(&o.exampleSite, "example-site", false, "print a commented example site file and exit")
	return cmd
}

func runAsteriskConfig(c *cobra.Command, d *Deps, o asteriskConfigOptions) error {
	if o.exampleSite {
		_, err := d.Stdout.Write(asterisk.ExampleSite())
		return err
	}
	for _, req := range []struct{ flag, value string }{{"--config", o.config}, {"--site", o.site}, {"--out", o.out}} {
		if req.value == "" {
			return usageErrorf("%smissing %s", prefix(c), req.flag)
		}
	}
	if o.placeholder && o.sipSecrets != "" {
		return usageErrorf("%s--sip-secrets and --password-placeholder exclude each other", prefix(c))
	}
	cfg, err := loadConfig(c, d, o.config)
	if err != nil {
		return err
	}
	site, err := asterisk.LoadSite(o.site)
	if errors.Is(err, os.ErrNotExist) {
		return usageErrorf("%s%s: no such file", prefix(c), o.site)
	} else if err != nil {
		return reportAsteriskErrors(c, d, err)
	}
	var sec asterisk.Secrets
	if o.placeholder {
		sec = asterisk.PlaceholderSecrets(cfg, site)
	} else {
		if repo := gitWorkTree(o.out); repo != "" {
			return usageErrorf("%srefusing to write secrets into %s, inside the git work tree %s; choose a directory outside it, or use --password-placeholder",
				prefix(c), o.out, repo)
		}
		if sec, err = asterisk.ResolveSecrets(cfg, site, o.sipSecrets, d.Getenv); err != nil {
			return reportAsteriskErrors(c, d, err)
		}
	}
	files, err := asterisk.Generate(cfg, site, sec)
	if err != nil {
		return reportAsteriskErrors(c, d, err)
	}
	if err := asterisk.Write(o.out, files); err != nil {
		return err
	}
	var secret []string
	for _, f := range files {
		if f.Secret {
			secret = append(secret, f.Name)
		}
	}
	what := "secrets"
	if o.placeholder {
		what = "placeholders"
	}
	_, err = fmt.Fprintf(d.Stdout, "wrote %d files to %s (%s with %s, mode 0600); reload Asterisk with: asterisk -rx 'core reload'\n",
		len(files), o.out, strings.Join(secret, ", "), what)
	return err
}

// reportAsteriskErrors prints each problem on its own line, like
// loadConfig, and exits 2.
func reportAsteriskErrors(c *cobra.Command, d *Deps, err error) error {
	var errs config.Errors
	if errors.As(err, &errs) {
		for _, e := range errs {
			fmt.Fprintln(d.Stderr, e)
		}
		return exitStatus(exitUsage)
	}
	for _, e := range unjoin(err) { // secrets: one line each, never a value
		fmt.Fprintf(d.Stderr, "%s%v\n", prefix(c), e)
	}
	return exitStatus(exitUsage)
}

// gitWorkTree returns the git work tree holding dir (or the directory
// dir would be created in), or "".
func gitWorkTree(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return ""
	}
	for p := abs; ; p = filepath.Dir(p) {
		if _, err := os.Stat(filepath.Join(p, ".git")); err == nil {
			return p
		}
		if filepath.Dir(p) == p {
			return ""
		}
	}
}
