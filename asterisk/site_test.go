package asterisk

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/helpline-it/helpline/config"
)

func TestParseSiteDefaults(t *testing.T) {
	s, err := ParseSite("dir/a.yaml", []byte("trunk:\n  host: h.example\n  password_file: secret/trunk\n  dids: [\"0612\"]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s.HTTP.Bind != DefaultHTTPBind || s.SIP.Bind != DefaultSIPBind || s.SIP.Protocol != "udp" ||
		s.SIP.RTPStart != DefaultRTPStart || s.SIP.RTPEnd != DefaultRTPEnd || s.MusicOnHoldDir != DefaultMusicOnHoldDir {
		t.Errorf("defaults not filled in: %+v", s)
	}
	if !slices.Equal(s.Codecs, []string{"ulaw", "alaw"}) || !slices.Equal(s.Trunk.Codecs, []string{"alaw", "ulaw"}) || s.Trunk.Port != 5060 {
		t.Errorf("codec/port defaults: %v %v %d", s.Codecs, s.Trunk.Codecs, s.Trunk.Port)
	}
	if want := filepath.Join("dir", "secret", "trunk"); s.Trunk.Password.File != want {
		t.Errorf("password_file %q, want %q (relative to the site file)", s.Trunk.Password.File, want)
	}
	if !slices.Equal(s.Trunk.DIDs, []string{"0612"}) {
		t.Errorf("DIDs %v: the leading 0 must be kept", s.Trunk.DIDs)
	}
}

func TestParseSiteErrors(t *testing.T) {
	cases := []struct {
		name, text string
		line       int
		path, msg  string
	}{
		{"unknown key", "trunk:\n  host: h\n  hots: h\n", 3, "trunk.hots", "unknown key"},
		{"literal password", "trunk:\n  password: hunter2-secret\n", 2, "trunk.password", "never written in this file"},
		{"literal secret", "trunk:\n  secret: hunter2-secret\n", 2, "trunk.secret", "password_env"},
		{"not a mapping", "- a\n- b\n", 1, "", "mapping"},
		{"list where a value goes", "trunk:\n  host: [a, b]\n", 2, "trunk.host", "single value"},
		{"mapping where a list goes", "codecs: {a: b}\n", 1, "codecs", "list"},
		{"not a number", "sip:\n  rtp_start: lots\n", 2, "sip.rtp_start", "whole number"},
		{"not a boolean", "trunk:\n  register: perhaps\n", 2, "trunk.register", "true or false"},
		{"set twice", "codecs: [ulaw]\ncodecs: [alaw]\n", 2, "codecs", "set twice"},
		{"empty", "", 0, "", "empty"},
		{"syntax", "trunk: [\n", 0, "", "not valid YAML"},
		{"two documents", "codecs: [ulaw]\n---\ncodecs: [alaw]\n", 2, "", "more than one"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseSite("s.yaml", []byte(tc.text))
			var errs config.Errors
			if !errors.As(err, &errs) {
				t.Fatalf("got %v, want config.Errors", err)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("the error echoes the secret: %v", err)
			}
			for _, e := range errs {
				if e.Path == tc.path && e.Line == tc.line && strings.Contains(e.Msg, tc.msg) && e.File == "s.yaml" {
					return
				}
			}
			t.Errorf("want s.yaml:%d: %s: …%s…; got\n%v", tc.line, tc.path, tc.msg, err)
		})
	}
}

func TestLoadSiteMissing(t *testing.T) {
	_, err := LoadSite(filepath.Join(t.TempDir(), "none.yaml"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("got %v, want fs.ErrNotExist", err)
	}
}

// TestExampleSite checks the example printed by --example-site parses and,
// with the example helpline.yaml, generates once its trunk password is
// given.
func TestExampleSite(t *testing.T) {
	site, err := ParseSite("asterisk.yaml", ExampleSite())
	if err != nil {
		t.Fatalf("example site: %v", err)
	}
	cfg, err := config.Parse("helpline.yaml", config.ExampleYAML())
	if err != nil {
		t.Fatalf("example config: %v", err)
	}
	if _, err := Generate(cfg, site, PlaceholderSecrets(cfg, site)); err != nil {
		t.Fatalf("Generate(example): %v", err)
	}
	keys := []string{"http:", "bind:", "protocol:", "external_address:", "local_net:", "rtp_start:", "rtp_end:",
		"codecs:", "music_on_hold_dir:", "host:", "port:", "username:", "password_env:", "from_user:",
		"from_domain:", "register:", "match:", "dids:"}
	for _, k := range keys {
		if !strings.Contains(string(ExampleSite()), k) {
			t.Errorf("the example does not document %s", k)
		}
	}
}

func TestResolveSecrets(t *testing.T) {
	cfg := loadConfig(t)
	site := loadSite(t, "site.yaml")
	sec, err := ResolveSecrets(cfg, site, filepath.Join("testdata", "sip"), testEnv)
	if err != nil {
		t.Fatal(err)
	}
	if sec.ARIPassword.Reveal() != "test-only-ari-password" || sec.TrunkPassword.Reveal() != "test-only-trunk-password;with-semicolon" ||
		sec.Operators["op1003"].Reveal() != "test-only-sip-password-op1003" || sec.Placeholder {
		t.Errorf("resolved %v", sec)
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		if s := fmt.Sprintf(verb, sec); strings.Contains(s, "test-only") {
			t.Errorf("%s prints a secret: %s", verb, s)
		}
	}

	t.Run("missing", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "op1001"), []byte("a-long-enough-password\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "op1002"), []byte("\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := ResolveSecrets(cfg, site, dir, func(string) string { return "" })
		var se *config.SecretError
		if !errors.As(err, &se) {
			t.Fatalf("got %v", err)
		}
		msg := err.Error()
		for _, want := range []string{"ari.password", "HELPLINE_ARI_PASSWORD", "operator op1002", "operator op1003", "operator op1004", filepath.Join(dir, "op1004")} {
			if !strings.Contains(msg, want) {
				t.Errorf("error does not name %q:\n%s", want, msg)
			}
		}
		if strings.Contains(msg, "operator op1001") || strings.Contains(msg, "a-long-enough") {
			t.Errorf("error mentions op1001, whose file is fine, or its value:\n%s", msg)
		}
	})
	t.Run("no directory", func(t *testing.T) {
		_, err := ResolveSecrets(cfg, site, "", testEnv)
		if err == nil || !strings.Contains(err.Error(), "--sip-secrets") {
			t.Errorf("got %v, want advice to pass --sip-secrets", err)
		}
	})
}

func TestWrite(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "etc", "asterisk")
	files := []File{{Name: "pjsip.conf", Data: []byte("secret\n"), Secret: true}, {Name: "rtp.conf", Data: []byte("public\n")}}
	if err := Write(dir, files); err != nil {
		t.Fatal(err)
	}
	// Again, over a file left world-readable: the secret must not stay so.
	if err := os.Chmod(filepath.Join(dir, "pjsip.conf"), 0o644); err != nil {
		t.Fatal(err)
	}
	files[0].Data = []byte("secret 2\n")
	if err := Write(dir, files); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]struct {
		mode os.FileMode
		data string
	}{"pjsip.conf": {ModeSecret, "secret 2\n"}, "rtp.conf": {ModePublic, "public\n"}} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != want.mode {
			t.Errorf("%s: mode %o, want %o", name, st.Mode().Perm(), want.mode)
		}
		if data, _ := os.ReadFile(filepath.Join(dir, name)); string(data) != want.data {
			t.Errorf("%s = %q, want %q", name, data, want.data)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("dir holds %d entries (temporary files left?)", len(entries))
	}
}

func FuzzParseSite(f *testing.F) {
	for _, name := range []string{"site.yaml", "site-ip.yaml", "site-compose.yaml"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add(ExampleSite())
	f.Add([]byte("trunk: &a {host: *a}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseSite("f.yaml", data)
		if err != nil {
			var errs config.Errors
			if !errors.As(err, &errs) || len(errs) == 0 {
				t.Fatalf("error %T is not a non-empty config.Errors: %v", err, err)
			}
			return
		}
		// Whatever parses must either generate or be refused with Errors.
		cfg, cerr := config.Parse("h.yaml", config.ExampleYAML())
		if cerr != nil {
			t.Fatal(cerr)
		}
		if _, err := Generate(cfg, s, PlaceholderSecrets(cfg, s)); err != nil {
			var errs config.Errors
			if !errors.As(err, &errs) {
				t.Fatalf("Generate error %T is not config.Errors: %v", err, err)
			}
		}
	})
}
