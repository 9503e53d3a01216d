package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// asteriskFixture writes a helpline.yaml, a site file and a directory of
// SIP secrets into a temporary directory.
type asteriskFixture struct {
	dir, config, site, sip string
	env                    map[string]string
}

func newAsteriskFixture(t *testing.T) asteriskFixture {
	t.Helper()
	dir := t.TempDir()
	f := asteriskFixture{
		dir:    dir,
		config: filepath.Join(dir, "helpline.yaml"),
		site:   filepath.Join(dir, "asterisk.yaml"),
		sip:    filepath.Join(dir, "sip"),
		env:    map[string]string{"HELPLINE_ARI_PASSWORD": "ari-secret-from-env"},
	}
	write := func(path, text string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(f.config, `service: "1522"
ari: {url: "http://127.0.0.1:8088", username: helpline, password_env: HELPLINE_ARI_PASSWORD}
privacy: {hmac_key_env: HELPLINE_HMAC_KEY}
languages:
  it: {digit: 1, hours: always}
operators:
  - {id: op1, endpoint: PJSIP/op1, languages: [it]}
  - {id: op2, endpoint: PJSIP/op2, languages: [it]}
`)
	write(f.site, "trunk:\n  host: 198.51.100.10\n  password_file: trunk.pw\n  username: acct\n  dids: [\"800123456\"]\n")
	write(filepath.Join(dir, "trunk.pw"), "trunk-secret-from-file\n")
	write(filepath.Join(f.sip, "op1"), "op1-sip-secret-123\n")
	write(filepath.Join(f.sip, "op2"), "op2-sip-secret-456\n")
	return f
}

func TestAsteriskConfigWrites(t *testing.T) {
	f := newAsteriskFixture(t)
	out := filepath.Join(f.dir, "etc-asterisk")
	r := runCLI(t, f.env, "", "asterisk-config", "--config", f.config, "--site", f.site, "--sip-secrets", f.sip, "--out", out)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "wrote 8 files to "+out) {
		t.Errorf("stdout %q", r.stdout)
	}
	for name, want := range map[string]struct {
		mode     os.FileMode
		contains string
	}{
		"ari.conf":        {0o600, "password=ari-secret-from-env\n"},
		"pjsip.conf":      {0o600, "password=op2-sip-secret-456\n"},
		"http.conf":       {0o644, "bindaddr=127.0.0.1\nbindport=8088\n"},
		"extensions.conf": {0o644, "exten => 800123456,1,Stasis(helpline,inbound)\n"},
		"modules.conf":    {0o644, "autoload=no\n"},
	} {
		path := filepath.Join(out, name)
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != want.mode {
			t.Errorf("%s: mode %o, want %o", name, st.Mode().Perm(), want.mode)
		}
		data, _ := os.ReadFile(path)
		if !strings.Contains(string(data), want.contains) {
			t.Errorf("%s lacks %q", name, want.contains)
		}
	}
	if data, _ := os.ReadFile(filepath.Join(out, "pjsip.conf")); !strings.Contains(string(data), "password=trunk-secret-from-file\n") {
		t.Errorf("pjsip.conf lacks the trunk password read from trunk.password_file")
	}
}

func TestAsteriskConfigPlaceholders(t *testing.T) {
	f := newAsteriskFixture(t)
	out := filepath.Join(f.dir, "tpl")
	// No secret in the environment: placeholders need none.
	r := runCLI(t, nil, "", "asterisk-config", "--config", f.config, "--site", f.site, "--out", out, "--password-placeholder")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	data, err := os.ReadFile(filepath.Join(out, "pjsip.conf"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"password=${SIP_PASSWORD_OP1}\n", "password=${TRUNK_PASSWORD}\n"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("pjsip.conf lacks %q", want)
		}
	}
	if strings.Contains(string(data), "secret-from") || strings.Contains(string(data), "sip-secret") {
		t.Error("pjsip.conf holds a real secret in placeholder mode")
	}
}

func TestAsteriskConfigErrors(t *testing.T) {
	f := newAsteriskFixture(t)
	badSite := filepath.Join(f.dir, "bad.yaml")
	if err := os.WriteFile(badSite, []byte("codecs: [ulaw, mp3]\ntrunk:\n  host: h.example\n  dids: [\"+39 800\"]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(f.dir, "out")
	base := []string{"asterisk-config", "--config", f.config, "--out", out}
	repo, err := filepath.Abs("../../asterisk-config-test-out")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		args   []string
		env    map[string]string
		code   int
		stderr []string // substrings, one per line in order
	}{
		{"missing site flag", base, f.env, 2, []string{"asterisk-config: missing --site"}},
		{"missing site file", append(base, "--site", filepath.Join(f.dir, "none.yaml"), "--sip-secrets", f.sip), f.env, 2,
			[]string{"none.yaml: no such file"}},
		{"bad values, all at once", append(base, "--site", badSite, "--sip-secrets", f.sip), f.env, 2,
			[]string{"bad.yaml:1: codecs[1]: \"mp3\"", "bad.yaml:4: trunk.dids[0]: \"+39 800\" is not a number"}},
		{"missing secrets", append(base, "--site", f.site, "--sip-secrets", filepath.Join(f.dir, "nosip")), nil, 2,
			[]string{"ari.password: environment variable HELPLINE_ARI_PASSWORD", "SIP password of operator op1", "SIP password of operator op2"}},
		{"flags exclude each other", append(base, "--site", f.site, "--sip-secrets", f.sip, "--password-placeholder"), f.env, 2,
			[]string{"exclude each other"}},
		{"secrets into the repository", []string{"asterisk-config", "--config", f.config, "--site", f.site, "--sip-secrets", f.sip, "--out", repo}, f.env, 2,
			[]string{"refusing to write secrets into"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, tc.env, "", tc.args...)
			got := lines(r.stderr)
			if r.code != tc.code || len(got) != len(tc.stderr) {
				t.Fatalf("exit %d, stderr:\n%s\nwant exit %d and %d lines", r.code, r.stderr, tc.code, len(tc.stderr))
			}
			for i, want := range tc.stderr {
				if !strings.Contains(got[i], want) {
					t.Errorf("line %d %q lacks %q", i+1, got[i], want)
				}
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("%s was created although the command failed", out)
			}
		})
	}
	if _, err := os.Stat(repo); !os.IsNotExist(err) {
		t.Errorf("%s was created inside the repository", repo)
	}
}

func TestAsteriskConfigExampleSite(t *testing.T) {
	r := runCLI(t, nil, "", "asterisk-config", "--example-site")
	if r.code != 0 || !strings.Contains(r.stdout, "dids:") {
		t.Fatalf("exit %d, stdout %q", r.code, r.stdout)
	}
	f := newAsteriskFixture(t)
	site := filepath.Join(f.dir, "example.yaml")
	if err := os.WriteFile(site, []byte(r.stdout), 0o600); err != nil {
		t.Fatal(err)
	}
	r = runCLI(t, nil, "", "asterisk-config", "--config", f.config, "--site", site, "--out", filepath.Join(f.dir, "o"), "--password-placeholder")
	if r.code != 0 {
		t.Errorf("the example site does not generate: exit %d, %s", r.code, r.stderr)
	}
}
