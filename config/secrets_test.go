package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	testARIPassword = "ari-pass-Zq7"
	testHMACKey     = "0123456789abcdef0123456789abcdef-hmac"
)

// secretsConfig returns a valid configuration whose secrets come from the
// given lines (replacing the ari/privacy secret keys).
func secretsConfig(t *testing.T, dir string, extra string) *Config {
	t.Helper()
	doc := `service: "1522"
ari:
  url: http://127.0.0.1:8088
  username: helpline
` + extra + `
languages:
  it: {digit: 1, hours: always}
operators:
  - {id: op1, endpoint: PJSIP/op1, languages: [it]}
`
	c, err := Parse(filepath.Join(dir, "helpline.yaml"), []byte(doc))
	if err != nil {
		t.Fatalf("Parse: %v\n%s", err, doc)
	}
	return c
}

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestSecretsFromEnv(t *testing.T) {
	c := secretsConfig(t, t.TempDir(), `  password_env: ARI_PW
privacy:
  hmac_key_env: HMAC`)
	s, err := c.Secrets(env(map[string]string{"ARI_PW": testARIPassword, "HMAC": testHMACKey}))
	if err != nil {
		t.Fatal(err)
	}
	if s.ARIPassword.Reveal() != testARIPassword || s.HMACKey.Reveal() != testHMACKey {
		t.Errorf("got %q / %q", s.ARIPassword.Reveal(), s.HMACKey.Reveal())
	}
	if !s.RedisPassword.IsZero() || !s.AdminToken.IsZero() || !s.PostgresPassword.IsZero() {
		t.Errorf("unconfigured secrets are set: %v", s)
	}
}

func TestSecretsFromFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "run"), 0o700); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "run", "ari"), testARIPassword+"\n")
	writeFile(t, filepath.Join(dir, "hmac"), testHMACKey+"\r\n")
	writeFile(t, filepath.Join(dir, "redis"), " spaced pass \n\n")
	// ari's path is relative to the configuration file; hmac's absolute.
	c := secretsConfig(t, dir, `  password_file: run/ari
privacy:
  hmac_key_file: `+filepath.Join(dir, "hmac")+`
redis:
  password_file: redis`)
	s, err := c.Secrets(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if s.ARIPassword.Reveal() != testARIPassword {
		t.Errorf("ARI password %q: trailing newline not dropped?", s.ARIPassword.Reveal())
	}
	if s.HMACKey.Reveal() != testHMACKey {
		t.Errorf("HMAC key %q: trailing CRLF not dropped?", s.HMACKey.Reveal())
	}
	if s.RedisPassword.Reveal() != " spaced pass " {
		t.Errorf("redis password %q: only trailing newlines may be dropped", s.RedisPassword.Reveal())
	}
}

// TestSecretsErrors checks each failure names the secret and its source,
// and that all failures are reported together.
func TestSecretsErrors(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "empty"), "\n")
	writeFile(t, filepath.Join(dir, "short"), "tooshort\n")
	tests := []struct {
		name  string
		extra string
		env   map[string]string
		want  []string
		is    error
	}{
		{
			name:  "env unset",
			extra: "  password_env: ARI_PW\nprivacy:\n  hmac_key_env: HMAC",
			env:   map[string]string{"HMAC": testHMACKey},
			want:  []string{"ari.password: environment variable ARI_PW: secret is missing: the variable is not set or empty"},
			is:    ErrSecretMissing,
		},
		{
			name:  "file missing",
			extra: "  password_env: ARI_PW\nprivacy:\n  hmac_key_file: nope/hmac",
			env:   map[string]string{"ARI_PW": "x"},
			want: []string{"privacy.hmac_key: file " + filepath.Join(dir, "nope/hmac") + ": open " +
				filepath.Join(dir, "nope/hmac") + ": no such file or directory"},
			is: fs.ErrNotExist,
		},
		{
			name:  "file empty",
			extra: "  password_file: empty\nprivacy:\n  hmac_key_env: HMAC",
			env:   map[string]string{"HMAC": testHMACKey},
			want:  []string{"ari.password: file " + filepath.Join(dir, "empty") + ": secret is missing: the file is empty"},
			is:    ErrSecretMissing,
		},
		{
			name:  "key too short",
			extra: "  password_env: ARI_PW\nprivacy:\n  hmac_key_file: short",
			env:   map[string]string{"ARI_PW": "x"},
			want: []string{"privacy.hmac_key: file " + filepath.Join(dir, "short") +
				": the key is 8 bytes; use at least 32 (e.g. openssl rand -hex 32)"},
		},
		{
			name:  "all at once",
			extra: "  password_env: ARI_PW\nprivacy:\n  hmac_key_env: HMAC\nhttp:\n  admin_token_env: TOKEN\nredis:\n  password_file: empty",
			env:   map[string]string{},
			want: []string{
				"ari.password: environment variable ARI_PW: secret is missing: the variable is not set or empty",
				"redis.password: file " + filepath.Join(dir, "empty") + ": secret is missing: the file is empty",
				"privacy.hmac_key: environment variable HMAC: secret is missing: the variable is not set or empty",
				"http.admin_token: environment variable TOKEN: secret is missing: the variable is not set or empty",
			},
			is: ErrSecretMissing,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := secretsConfig(t, dir, tt.extra)
			s, err := c.Secrets(env(tt.env))
			if err == nil {
				t.Fatalf("Secrets = %v, want an error", s)
			}
			if got := strings.Split(err.Error(), "\n"); strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("error:\n%v\nwant:\n%s", err, strings.Join(tt.want, "\n"))
			}
			var se *SecretError
			if !errors.As(err, &se) || se.Key == "" || se.Source == "" {
				t.Errorf("error %v does not unwrap to a *SecretError", err)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v is not %v", err, tt.is)
			}
		})
	}
}

// TestSecretsNeverPrinted checks no way of printing Secrets shows a value.
func TestSecretsNeverPrinted(t *testing.T) {
	s := Secrets{ARIPassword: NewSecret(testARIPassword), HMACKey: NewSecret(testHMACKey)}
	var outputs []string
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T"} {
		outputs = append(outputs, fmt.Sprintf(verb, s), fmt.Sprintf(verb, &s),
			fmt.Sprintf(verb, s.ARIPassword), fmt.Sprintf(verb, []Secret{s.HMACKey}),
			fmt.Sprintf(verb, struct{ S Secrets }{s}))
	}
	js, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	outputs = append(outputs, string(js), s.String(), s.HMACKey.String())
	for _, out := range outputs {
		for _, secret := range []string{testARIPassword, testHMACKey, "617269", "0123456789abcdef"} {
			if strings.Contains(out, secret) {
				t.Errorf("output shows a secret: %s", out)
			}
		}
	}
	want := "config.Secrets{ARIPassword:(redacted) RedisPassword:(unset) PostgresPassword:(unset) HMACKey:(redacted) AdminToken:(unset)}"
	if got := fmt.Sprintf("%+v", s); got != want {
		t.Errorf("%%+v = %s, want %s", got, want)
	}
	if got := string(js); !strings.Contains(got, `"HMACKey":"(redacted)"`) {
		t.Errorf("json = %s", got)
	}
}
