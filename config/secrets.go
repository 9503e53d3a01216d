package config

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// SecretRef says where a secret is kept: in an environment variable or in
// a file (a Docker or systemd credential). Exactly one of Env and File is
// set when the secret is configured. The file never holds the secret
// itself: secrets do not belong in a file that is committed, copied into
// images and pasted into tickets.
type SecretRef struct {
	// Key is the secret's key path, e.g. "ari.password", used in errors.
	Key string
	// Env names the environment variable holding the secret.
	Env string
	// File is the path of the file holding the secret (relative paths
	// already resolved against the configuration file's directory).
	File string
}

// IsSet reports whether the configuration says where the secret is.
func (r SecretRef) IsSet() bool { return r.Env != "" || r.File != "" }

// Source describes where the secret is read from, for messages.
func (r SecretRef) Source() string {
	if r.Env != "" {
		return "environment variable " + r.Env
	}
	return "file " + r.File
}

// SecretError says which secret could not be read from which source.
type SecretError struct {
	Key    string // e.g. "ari.password"
	Source string // e.g. "environment variable HELPLINE_ARI_PASSWORD"
	Err    error
}

// Error names the secret, its source and what is wrong, never the value.
func (e *SecretError) Error() string {
	return fmt.Sprintf("%s: %s: %v", e.Key, e.Source, e.Err)
}

// Unwrap returns the cause.
func (e *SecretError) Unwrap() error { return e.Err }

// ErrSecretMissing is wrapped by SecretError when the variable is unset or
// empty, or the file is empty.
var ErrSecretMissing = errors.New("secret is missing")

// Resolve reads the secret from its source. getenv looks up environment
// variables (os.Getenv in production). A trailing newline is dropped from
// file contents, as editors and `echo` add one.
func (r SecretRef) Resolve(getenv func(string) string) (Secret, error) {
	fail := func(err error) (Secret, error) {
		return Secret{}, &SecretError{Key: r.Key, Source: r.Source(), Err: err}
	}
	switch {
	case r.Env != "":
		v := getenv(r.Env)
		if v == "" {
			return fail(fmt.Errorf("%w: the variable is not set or empty", ErrSecretMissing))
		}
		return Secret{v}, nil
	case r.File != "":
		data, err := os.ReadFile(r.File)
		if err != nil {
			return fail(err)
		}
		v := strings.TrimRight(string(data), "\r\n")
		if v == "" {
			return fail(fmt.Errorf("%w: the file is empty", ErrSecretMissing))
		}
		return Secret{v}, nil
	}
	return fail(fmt.Errorf("%w: neither an environment variable nor a file is configured", ErrSecretMissing))
}

// Secret is a resolved secret value. Every way of printing or encoding it
// (fmt verbs, JSON, text marshalling, zerolog) shows "(redacted)", so it
// cannot reach a log by accident; Reveal is the one way to the value.
type Secret struct{ value string }

// NewSecret wraps a value, for tests and for callers holding a secret
// from elsewhere.
func NewSecret(value string) Secret { return Secret{value} }

// Reveal returns the value. Call it only where the value is used.
func (s Secret) Reveal() string { return s.value }

// IsZero reports whether the secret is empty (not configured).
func (s Secret) IsZero() bool { return s.value == "" }

// String returns "(redacted)", or "(unset)" for an empty secret.
func (s Secret) String() string {
	if s.value == "" {
		return "(unset)"
	}
	return "(redacted)"
}

// Format prints String for every verb, %#v and %q included.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, s.String()) }

// MarshalText encodes String, so JSON and YAML encoders redact too.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// MinHMACKeyLength is the shortest accepted privacy key, in bytes: the
// keyed hash is only as strong as the key, and a short one can be brute
// forced over the small space of phone numbers.
const MinHMACKeyLength = 32

// Secrets are the resolved secrets of a configuration. Printing it, with
// any verb, shows which secrets are set and never their values.
type Secrets struct {
	ARIPassword Secret
	// RedisPassword is zero when redis has no password configured.
	RedisPassword Secret
	// PostgresPassword is zero unless cdr.password_env/_file is set.
	PostgresPassword Secret
	// HMACKey keys the hash of caller numbers (at least MinHMACKeyLength bytes).
	HMACKey Secret
	// AdminToken is zero when http has no admin token configured.
	AdminToken Secret
}

// String lists the secrets as set or unset.
func (s Secrets) String() string {
	return fmt.Sprintf("config.Secrets{ARIPassword:%v RedisPassword:%v PostgresPassword:%v HMACKey:%v AdminToken:%v}",
		s.ARIPassword, s.RedisPassword, s.PostgresPassword, s.HMACKey, s.AdminToken)
}

// Format prints String for every verb.
func (s Secrets) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, s.String()) }

// Secrets resolves every configured secret, as `helpline serve` needs
// them: the ARI password and the privacy key always, the others when
// configured. getenv looks up environment variables (os.Getenv in
// production). The error joins one SecretError per secret that could not
// be read, so all of them can be fixed at once.
func (c *Config) Secrets(getenv func(string) string) (Secrets, error) {
	var s Secrets
	var errs []error
	resolve := func(dst *Secret, r SecretRef, required bool) {
		if !required && !r.IsSet() {
			return
		}
		v, err := r.Resolve(getenv)
		if err != nil {
			errs = append(errs, err)
			return
		}
		*dst = v
	}
	resolve(&s.ARIPassword, c.ARI.Password, true)
	resolve(&s.RedisPassword, c.Redis.Password, false)
	resolve(&s.PostgresPassword, c.CDR.Password, false)
	resolve(&s.HMACKey, c.Privacy.HMACKey, true)
	resolve(&s.AdminToken, c.HTTP.AdminToken, false)
	if n := len(s.HMACKey.value); n > 0 && n < MinHMACKeyLength {
		errs = append(errs, &SecretError{Key: c.Privacy.HMACKey.Key, Source: c.Privacy.HMACKey.Source(),
			Err: fmt.Errorf("the key is %d bytes; use at least %d (e.g. openssl rand -hex 32)", n, MinHMACKeyLength)})
		s.HMACKey = Secret{}
	}
	if len(errs) > 0 {
		return Secrets{}, errors.Join(errs...)
	}
	return s, nil
}
