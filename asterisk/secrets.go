package asterisk

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/helpline-it/helpline/config"
)

// MinSIPPasswordLength is the shortest operator SIP password accepted.
// Softphone credentials are what Internet scanners guess around the clock;
// a short one falls to a dictionary within days.
const MinSIPPasswordLength = 12

// Secrets are the values Generate writes into ari.conf and pjsip.conf.
// Printing it, with any verb, never shows them.
type Secrets struct {
	// ARIPassword is the password of the ARI user (ari.conf).
	ARIPassword config.Secret
	// TrunkPassword authenticates us to the provider; zero when the site
	// file names no trunk password.
	TrunkPassword config.Secret
	// Operators maps operator id to the softphone's SIP password.
	Operators map[string]config.Secret
	// Placeholder is set when the values are ${NAME} placeholders for a
	// template engine (see PlaceholderSecrets) rather than secrets.
	Placeholder bool
}

// String names which secrets are set, never their values.
func (s Secrets) String() string {
	return fmt.Sprintf("asterisk.Secrets{ARIPassword:%v TrunkPassword:%v Operators:%d Placeholder:%t}",
		s.ARIPassword, s.TrunkPassword, len(s.Operators), s.Placeholder)
}

// Format prints String for every verb, %#v included.
func (s Secrets) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, s.String()) }

// PlaceholderSecrets returns ${NAME} placeholders instead of secrets, for
// an installation that fills them in at deployment with a template engine
// (envsubst, Ansible, a secrets operator): ${ARI_PASSWORD},
// ${TRUNK_PASSWORD} and, per operator, ${SIP_PASSWORD_<ID>} where <ID> is
// the operator id in upper case with every character other than a letter
// or digit turned into _ (op1001 → SIP_PASSWORD_OP1001).
func PlaceholderSecrets(cfg *config.Config, site *Site) Secrets {
	s := Secrets{ARIPassword: config.NewSecret("${ARI_PASSWORD}"), Operators: map[string]config.Secret{}, Placeholder: true}
	if site.Trunk.Password.IsSet() {
		s.TrunkPassword = config.NewSecret("${TRUNK_PASSWORD}")
	}
	for _, o := range cfg.Operators {
		s.Operators[o.ID] = config.NewSecret("${" + PlaceholderName(o.ID) + "}")
	}
	return s
}

// PlaceholderName is the placeholder variable of an operator's SIP password.
func PlaceholderName(operatorID string) string {
	var b strings.Builder
	b.WriteString("SIP_PASSWORD_")
	for _, r := range strings.ToUpper(operatorID) {
		if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// ResolveSecrets reads the secrets the configuration points to: the ARI
// password from helpline.yaml's ari.password_env/_file (the same source
// `helpline serve` reads, so the two cannot disagree), the trunk password
// from the site file, and each operator's SIP password from the file
// sipDir/<operator id> (helpline.yaml deliberately has no key for SIP
// credentials). getenv looks up environment variables (os.Getenv in
// production). The error joins one config.SecretError per secret that
// could not be read, naming its source and never its value.
func ResolveSecrets(cfg *config.Config, site *Site, sipDir string, getenv func(string) string) (Secrets, error) {
	s := Secrets{Operators: map[string]config.Secret{}}
	var errs []error
	read := func(r config.SecretRef) config.Secret {
		v, err := r.Resolve(getenv)
		if err != nil {
			errs = append(errs, err)
		}
		return v
	}
	s.ARIPassword = read(cfg.ARI.Password)
	if site.Trunk.Password.IsSet() {
		s.TrunkPassword = read(site.Trunk.Password)
	}
	if sipDir == "" && len(cfg.Operators) > 0 {
		errs = append(errs, errors.New("operators' SIP passwords: no directory given; pass --sip-secrets DIR holding one file per operator id (DIR/"+cfg.Operators[0].ID+"), or --password-placeholder"))
	} else {
		for _, o := range cfg.Operators {
			r := config.SecretRef{Key: "SIP password of operator " + o.ID, File: filepath.Join(sipDir, o.ID)}
			if v := read(r); !v.IsZero() {
				s.Operators[o.ID] = v
			}
		}
	}
	if len(errs) > 0 {
		return Secrets{}, errors.Join(errs...)
	}
	return s, nil
}
