package asterisk

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/helpline-it/helpline/config"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// testEnv is the environment the tests resolve secrets from.
func testEnv(name string) string {
	if name == "HELPLINE_ARI_PASSWORD" {
		return "test-only-ari-password"
	}
	return ""
}

// loadConfig parses testdata/helpline.yaml with each old→new replacement
// applied to its text.
func loadConfig(t *testing.T, replace ...string) *config.Config {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "helpline.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	for i := 0; i+1 < len(replace); i += 2 {
		if !strings.Contains(text, replace[i]) {
			t.Fatalf("testdata/helpline.yaml has no %q to replace", replace[i])
		}
		text = strings.Replace(text, replace[i], replace[i+1], 1)
	}
	cfg, err := config.Parse(filepath.Join("testdata", "helpline.yaml"), []byte(text))
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return cfg
}

func loadSite(t *testing.T, name string) *Site {
	t.Helper()
	s, err := LoadSite(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("site: %v", err)
	}
	return s
}

func realSecrets(t *testing.T, cfg *config.Config, site *Site) Secrets {
	t.Helper()
	sec, err := ResolveSecrets(cfg, site, filepath.Join("testdata", "sip"), testEnv)
	if err != nil {
		t.Fatalf("secrets: %v", err)
	}
	return sec
}

// nodesYAML makes testdata/helpline.yaml node1 of three nodes sharing one
// queue (replacing its service line).
const nodesYAML = "service: \"1522\"\nnode_id: node1\nnodes:\n  node1: {trunk: PJSIP/internode-node1, host: 10.0.0.11}\n  node2: {trunk: PJSIP/internode-node2, host: \"10.0.0.12:5070\"}\n  node3: {trunk: PJSIP/internode-node3, host: node3.switchboard.lan}\n"

// TestGolden compares every generated file with testdata/golden/<case>/.
// Run `go test ./asterisk -update` after an intended change and review the
// diff.
func TestGolden(t *testing.T) {
	cases := []struct {
		name    string
		site    string
		replace []string
		secrets func(*testing.T, *config.Config, *Site) Secrets
	}{
		{name: "registered", site: "site.yaml", secrets: realSecrets},
		{name: "ip-trunk-placeholders", site: "site-ip.yaml",
			secrets: func(_ *testing.T, c *config.Config, s *Site) Secrets { return PlaceholderSecrets(c, s) }},
		{name: "compose", site: "site-compose.yaml", replace: []string{"http://127.0.0.1:8088", "http://asterisk:8088"},
			secrets: func(_ *testing.T, c *config.Config, s *Site) Secrets { return PlaceholderSecrets(c, s) }},
		{name: "nodes", site: "site-ip.yaml", replace: []string{`service: "1522"` + "\n", nodesYAML},
			secrets: func(_ *testing.T, c *config.Config, s *Site) Secrets { return PlaceholderSecrets(c, s) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := loadConfig(t, tc.replace...)
			site := loadSite(t, tc.site)
			files, err := Generate(cfg, site, tc.secrets(t, cfg, site))
			if err != nil {
				t.Fatalf("Generate: %v", err)
			}
			dir := filepath.Join("testdata", "golden", tc.name)
			if *update {
				if err := os.RemoveAll(dir); err != nil {
					t.Fatal(err)
				}
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			var names []string
			for _, f := range files {
				names = append(names, f.Name)
				path := filepath.Join(dir, f.Name)
				if *update {
					if err := os.WriteFile(path, f.Data, 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run go test ./asterisk -update)", err)
				}
				if !bytes.Equal(f.Data, want) {
					t.Errorf("%s differs from %s:\n%s", f.Name, path, lineDiff(string(want), string(f.Data)))
				}
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				if !slices.Contains(names, e.Name()) {
					t.Errorf("%s is in %s but no longer generated", e.Name(), dir)
				}
			}
		})
	}
}

// lineDiff shows the first lines that differ, enough to see the change.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < max(len(w), len(g)) && shown < 10; i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n  want %q\n  got  %q\n", i+1, wl, gl)
			shown++
		}
	}
	return b.String()
}

func TestGenerateWritesSecretsOnlyWhereDue(t *testing.T) {
	cfg := loadConfig(t)
	site := loadSite(t, "site.yaml")
	files, err := Generate(cfg, site, realSecrets(t, cfg, site))
	if err != nil {
		t.Fatal(err)
	}
	secrets := []string{"test-only-ari-password", `test-only-trunk-password\;with-semicolon`, "test-only-sip-password-op1001"}
	for _, f := range files {
		for _, s := range secrets {
			if bytes.Contains(f.Data, []byte(s)) && !f.Secret {
				t.Errorf("%s holds a secret but would be written with mode %o", f.Name, ModePublic)
			}
		}
	}
	byName := filesByName(files)
	for _, op := range []string{"op1001", "op1002", "op1003", "op1004"} {
		if !bytes.Contains(byName["pjsip.conf"], []byte("password=test-only-sip-password-"+op+"\n")) {
			t.Errorf("pjsip.conf lacks %s's SIP password read from testdata/sip/%s", op, op)
		}
	}
	if !bytes.Contains(byName["ari.conf"], []byte("password=test-only-ari-password\n")) {
		t.Errorf("ari.conf lacks the ARI password read from HELPLINE_ARI_PASSWORD")
	}
	if !bytes.Contains(byName["pjsip.conf"], []byte("password=test-only-trunk-password\\;with-semicolon\n")) {
		t.Errorf("pjsip.conf: the trunk password's ; is not escaped as \\;")
	}
}

func filesByName(files []File) map[string][]byte {
	m := map[string][]byte{}
	for _, f := range files {
		m[f.Name] = f.Data
	}
	return m
}

// TestGenerateRefuses checks that values Asterisk would reject or misread
// are refused first, with an error naming the file and key.
func TestGenerateRefuses(t *testing.T) {
	cases := []struct {
		name    string
		replace []string // in helpline.yaml
		site    string   // site file text; "" = testdata/site-ip.yaml
		secrets func(*Secrets)
		path    string // expected key path in the error
		msg     string // expected part of the message
	}{
		{name: "unknown codec", site: "codecs: [ulaw, speex8]\ntrunk: {host: h.example, dids: [\"1\"]}\n",
			path: "codecs[1]", msg: "not an audio codec Asterisk 22 knows"},
		{name: "codec in capitals", site: "codecs: [G722]\ntrunk: {host: h.example, dids: [\"1\"]}\n",
			path: "codecs[0]", msg: "write g722"},
		{name: "codec all", site: "trunk: {host: h.example, dids: [\"1\"], codecs: [all]}\n",
			path: "trunk.codecs[0]", msg: "one by one"},
		{name: "codecs as one string", site: "codecs: \"ulaw,alaw\"\ntrunk: {host: h.example, dids: [\"1\"]}\n",
			path: "codecs[0]", msg: "one codec per list item"},
		{name: "codec twice", site: "codecs: [ulaw, ulaw]\ntrunk: {host: h.example, dids: [\"1\"]}\n",
			path: "codecs[1]", msg: "listed twice"},
		{name: "operator endpoint is the trunk", replace: []string{"PJSIP/op1003", "PJSIP/trunk"},
			path: "operators[2].endpoint", msg: "the trunk (trunk.dial)"},
		{name: "operator endpoint is the trunk's auth", replace: []string{"PJSIP/op1003", "PJSIP/trunk-auth"},
			path: "operators[2].endpoint", msg: "the trunk's credentials"},
		{name: "operator endpoint is a template", replace: []string{"PJSIP/op1003", "PJSIP/helpline-operator"},
			path: "operators[2].endpoint", msg: "endpoint template"},
		{name: "semicolon in endpoint", replace: []string{"PJSIP/op1002", "PJSIP/op;1002"},
			path: "operators[1].endpoint", msg: `';' cannot appear`},
		{name: "at sign in endpoint", replace: []string{"PJSIP/op1002", "PJSIP/op@1002"},
			path: "operators[1].endpoint", msg: `'@' cannot appear`},
		{name: "bracket in endpoint", replace: []string{"endpoint: PJSIP/op1002", "endpoint: \"PJSIP/op]1002\""},
			path: "operators[1].endpoint", msg: `']' cannot appear`},
		{name: "not PJSIP", replace: []string{"PJSIP/op1002", "IAX2/op1002"},
			path: "operators[1].endpoint", msg: "PJSIP softphones"},
		{name: "trunk not PJSIP", replace: []string{"PJSIP/{number}@trunk", "SIP/{number}@trunk"},
			path: "trunk.dial", msg: "PJSIP/{number}@<endpoint>"},
		{name: "https ARI", replace: []string{"http://127.0.0.1:8088", "https://127.0.0.1:8089"},
			path: "ari.url", msg: "is https"},
		{name: "remote ARI with loopback bind", replace: []string{"http://127.0.0.1:8088", "http://asterisk:8088"},
			path: "http.bind", msg: `reaches it at "asterisk"`},
		{name: "DID with plus", site: "trunk: {host: h.example, dids: [\"+39800123456\"]}\n",
			path: "trunk.dids[0]", msg: "digits only"},
		{name: "DID with spaces", site: "trunk: {host: h.example, dids: [\"800 123 456\"]}\n",
			path: "trunk.dids[0]", msg: "is not a number"},
		{name: "DID twice", site: "trunk: {host: h.example, dids: [\"1522\", \"1522\"]}\n",
			path: "trunk.dids[1]", msg: "listed twice"},
		{name: "no DIDs", site: "trunk: {host: h.example}\n", path: "trunk.dids", msg: "missing"},
		{name: "no trunk host", site: "trunk: {dids: [\"1\"]}\n", path: "trunk.host", msg: "missing"},
		{name: "trunk host with port", site: "trunk: {host: \"h.example:5060\", dids: [\"1\"]}\n",
			path: "trunk.host", msg: "trunk.port"},
		{name: "register without credentials", site: "trunk: {host: h.example, register: true, dids: [\"1\"]}\n",
			path: "trunk.register", msg: "needs trunk.username"},
		{name: "username without password", site: "trunk: {host: h.example, username: u, dids: [\"1\"]}\n",
			path: "trunk.username", msg: "without trunk.password_env"},
		{name: "bad local_net", site: "sip: {external_address: 203.0.113.1, local_net: [10.0.0.0/33]}\ntrunk: {host: h.example, dids: [\"1\"]}\n",
			path: "sip.local_net[0]", msg: "CIDR"},
		{name: "local_net without external address", site: "sip: {local_net: [10.0.0.0/8]}\ntrunk: {host: h.example, dids: [\"1\"]}\n",
			path: "sip.local_net", msg: "external_address"},
		{name: "bind not IP:port", site: "sip: {bind: \"0.0.0.0\"}\ntrunk: {host: h.example, dids: [\"1\"]}\n",
			path: "sip.bind", msg: "IP:port"},
		{name: "protocol", site: "sip: {protocol: tls}\ntrunk: {host: h.example, dids: [\"1\"]}\n",
			path: "sip.protocol", msg: "udp or tcp"},
		{name: "rtp range", site: "sip: {rtp_start: 10000, rtp_end: 10002}\ntrunk: {host: h.example, dids: [\"1\"]}\n",
			path: "sip.rtp_end", msg: "no room"},
		{name: "relative moh dir", site: "music_on_hold_dir: moh\ntrunk: {host: h.example, dids: [\"1\"]}\n",
			path: "music_on_hold_dir", msg: "absolute"},
		{name: "short operator password", secrets: func(s *Secrets) { s.Operators["op1002"] = config.NewSecret("short") },
			path: "SIP password of operator op1002", msg: "use at least 12"},
		{name: "missing operator password", secrets: func(s *Secrets) { delete(s.Operators, "op1004") },
			path: "SIP password of operator op1004", msg: "missing"},
		{name: "newline in ARI password", secrets: func(s *Secrets) { s.ARIPassword = config.NewSecret("abc\nenabled=no") },
			path: "ari.password", msg: "line break"},
		{name: "space around password", secrets: func(s *Secrets) { s.Operators["op1001"] = config.NewSecret(" long-enough-password ") },
			path: "SIP password of operator op1001", msg: "space"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := loadConfig(t, tc.replace...)
			var site *Site
			if tc.site == "" {
				site = loadSite(t, "site-ip.yaml")
			} else {
				var err error
				if site, err = ParseSite("site.yaml", []byte(tc.site)); err != nil {
					t.Fatalf("ParseSite: %v", err)
				}
			}
			sec := Secrets{ARIPassword: config.NewSecret("test-only-ari-password"), Operators: map[string]config.Secret{}}
			for _, o := range cfg.Operators {
				sec.Operators[o.ID] = config.NewSecret("test-only-password-" + o.ID)
			}
			if tc.secrets != nil {
				tc.secrets(&sec)
			}
			files, err := Generate(cfg, site, sec)
			if err == nil {
				t.Fatalf("Generate accepted it and wrote %d files", len(files))
			}
			var errs config.Errors
			if !errors.As(err, &errs) {
				t.Fatalf("error %T is not config.Errors: %v", err, err)
			}
			for _, e := range errs {
				if e.Path == tc.path && strings.Contains(e.Msg, tc.msg) {
					if strings.Contains(err.Error(), "enabled=no") || strings.Contains(err.Error(), "long-enough-password") {
						t.Errorf("the error echoes a secret: %v", err)
					}
					return
				}
			}
			t.Errorf("no error at %s containing %q; got:\n%v", tc.path, tc.msg, err)
		})
	}
}

func TestGenerateReportsEveryProblemAtOnce(t *testing.T) {
	cfg := loadConfig(t, "PJSIP/op1003", "PJSIP/trunk")
	site, err := ParseSite("s.yaml", []byte("codecs: [mp3]\ntrunk: {host: \"bad host\", dids: [\"x\"]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Generate(cfg, site, PlaceholderSecrets(cfg, site))
	var errs config.Errors
	if !errors.As(err, &errs) {
		t.Fatalf("got %v", err)
	}
	var paths []string
	for _, e := range errs {
		paths = append(paths, e.Path)
	}
	for _, want := range []string{"codecs[0]", "trunk.host", "trunk.dids[0]", "operators[2].endpoint"} {
		if !slices.Contains(paths, want) {
			t.Errorf("no error for %s; got %v", want, paths)
		}
	}
	for _, e := range errs {
		if e.Path == "codecs[0]" && (e.File != "s.yaml" || e.Line != 1) {
			t.Errorf("codec error at %s:%d, want s.yaml:1", e.File, e.Line)
		}
	}
}

func TestModules(t *testing.T) {
	cfg := loadConfig(t)
	cases := []struct {
		name        string
		site        string
		want, avoid []string
		external    bool
	}{
		{name: "registered with g722", site: "codecs: [ulaw, alaw, g722]\ntrunk: {host: h.example, username: u, password_env: P, register: true, dids: [\"1\"]}\n",
			want: []string{"codec_g722.so", "res_pjsip_outbound_registration.so"}},
		{name: "ip trunk", site: "trunk: {host: h.example, dids: [\"1\"]}\n",
			avoid: []string{"res_pjsip_outbound_registration.so", "codec_g722.so", "codec_opus.so"}},
		{name: "opus", site: "codecs: [opus, ulaw]\ntrunk: {host: h.example, dids: [\"1\"]}\n",
			want: []string{"codec_opus.so", "res_format_attr_opus.so"}, external: true},
	}
	always := []string{"pbx_config.so", "app_stasis.so", "res_ari.so", "res_stasis.so", "res_http_websocket.so",
		"chan_pjsip.so", "res_pjsip.so", "res_pjsip_pubsub.so", "res_pjsip_session.so", "res_rtp_asterisk.so",
		"res_musiconhold.so", "format_wav.so", "codec_ulaw.so", "codec_alaw.so", "bridge_simple.so",
		"bridge_softmix.so", "chan_bridge_media.so", "func_callerid.so", "func_channel.so", "res_timing_timerfd.so"}
	never := []string{"res_pjsip_endpoint_identifier_anonymous.so", "cdr_csv.so", "chan_sip.so", "res_ari_mailboxes.so", "app_dial.so"}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			site, err := ParseSite("s.yaml", []byte(tc.site))
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(tc.site, "password_env") {
				t.Setenv("P", "x")
			}
			sec := PlaceholderSecrets(cfg, site)
			files, err := Generate(cfg, site, sec)
			if err != nil {
				t.Fatal(err)
			}
			mods := string(filesByName(files)["modules.conf"])
			if !strings.Contains(mods, "\nautoload=no\n") {
				t.Error("modules.conf does not set autoload=no")
			}
			loaded := map[string]int{}
			for _, l := range strings.Split(mods, "\n") {
				if m, ok := strings.CutPrefix(l, "load = "); ok {
					loaded[m]++
				}
			}
			for m, n := range loaded {
				if n > 1 {
					t.Errorf("%s loaded %d times", m, n)
				}
			}
			for _, m := range slices.Concat(always, tc.want) {
				if loaded[m] == 0 {
					t.Errorf("%s is not loaded", m)
				}
			}
			for _, m := range slices.Concat(never, tc.avoid) {
				if loaded[m] > 0 {
					t.Errorf("%s is loaded", m)
				}
			}
			if has := strings.Contains(mods, "Not part of Asterisk's source"); has != tc.external {
				t.Errorf("warning about external modules present = %v, want %v", has, tc.external)
			}
		})
	}
}

func TestPlaceholderName(t *testing.T) {
	for in, want := range map[string]string{"op1001": "SIP_PASSWORD_OP1001", "giulia.r-2": "SIP_PASSWORD_GIULIA_R_2"} {
		if got := PlaceholderName(in); got != want {
			t.Errorf("PlaceholderName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDisplayName(t *testing.T) {
	if got := displayName("Katrin \"Kat\" <K>;\\\x07"); got != "Katrin Kat K" {
		t.Errorf("displayName = %q", got)
	}
}
