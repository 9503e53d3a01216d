// Package docker_test checks the deployment files of this directory. The
// compose file is read as YAML and held to the rules the deployment relies
// on. The compose client's own validation is `make compose-check`
// (check.sh), kept out of the test suite because it needs the compose
// client, which CI machines do not have; a test that skips itself there
// would only pretend to check.
package docker_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/helpline-it/helpline/asterisk"
	"github.com/helpline-it/helpline/config"
)

type service struct {
	Image       string            `yaml:"image"`
	Build       map[string]string `yaml:"build"`
	User        string            `yaml:"user"`
	Command     []string          `yaml:"command"`
	Profiles    []string          `yaml:"profiles"`
	Volumes     []string          `yaml:"volumes"`
	Ports       []string          `yaml:"ports"`
	Secrets     []string          `yaml:"secrets"`
	Environment map[string]string `yaml:"environment"`
	ReadOnly    bool              `yaml:"read_only"`
	CapDrop     []string          `yaml:"cap_drop"`
	SecurityOpt []string          `yaml:"security_opt"`
	DependsOn   map[string]struct {
		Condition string `yaml:"condition"`
	} `yaml:"depends_on"`
	Healthcheck struct {
		Test []string `yaml:"test"`
	} `yaml:"healthcheck"`
}

type compose struct {
	Services map[string]service `yaml:"services"`
	Volumes  map[string]any     `yaml:"volumes"`
	Secrets  map[string]struct {
		File string `yaml:"file"`
	} `yaml:"secrets"`
}

func load(t *testing.T) compose {
	t.Helper()
	data, err := os.ReadFile("compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var c compose
	if err := yaml.Unmarshal(data, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestComposeRules(t *testing.T) {
	c := load(t)
	for _, name := range []string{"asterisk-config", "asterisk", "redis", "postgres", "helpline"} {
		if _, ok := c.Services[name]; !ok {
			t.Fatalf("no service %s", name)
		}
	}
	// Every image is pinned to a version, never latest or a bare name.
	pinned := regexp.MustCompile(`^[a-z0-9./-]+(:[0-9][A-Za-z0-9._-]*|@sha256:[0-9a-f]{64})$`)
	for name, s := range c.Services {
		if s.Image != "helpline:local" && !pinned.MatchString(s.Image) {
			t.Errorf("%s: image %q is not pinned to a version", name, s.Image)
		}
		for k, v := range s.Environment {
			if strings.Contains(strings.ToUpper(k), "PASSWORD") && !strings.HasSuffix(k, "_FILE") {
				t.Errorf("%s: %s=%q puts a secret in the environment; use a compose secret and *_FILE", name, k, v)
			}
		}
	}
	for name, s := range c.Secrets {
		if !strings.HasPrefix(s.File, "./secrets/") {
			t.Errorf("secret %s comes from %q, not from the git-ignored ./secrets/", name, s.File)
		}
	}

	h := c.Services["helpline"]
	if !slices.Equal(h.Healthcheck.Test, []string{"CMD", "/usr/local/bin/healthcheck", "http://127.0.0.1:9522/readyz"}) {
		t.Errorf("helpline healthcheck %q does not probe /readyz", h.Healthcheck.Test)
	}
	if !h.ReadOnly || !slices.Contains(h.CapDrop, "ALL") || !slices.Contains(h.SecurityOpt, "no-new-privileges:true") {
		t.Errorf("helpline is not read-only, capability-free and no-new-privileges")
	}
	for dep, cond := range map[string]string{"asterisk": "service_healthy", "redis": "service_healthy"} {
		if h.DependsOn[dep].Condition != cond {
			t.Errorf("helpline depends on %s with %q, want %s", dep, h.DependsOn[dep].Condition, cond)
		}
	}
	for _, v := range []string{"helpline-data:/var/lib/helpline", "recordings:/var/lib/helpline/recordings"} {
		if !slices.Contains(h.Volumes, v) {
			t.Errorf("helpline lacks volume %s", v)
		}
	}
	if !slices.Equal(h.Secrets, []string{"ari_password", "hmac_key"}) {
		t.Errorf("helpline secrets %v", h.Secrets)
	}

	a := c.Services["asterisk"]
	if a.DependsOn["asterisk-config"].Condition != "service_completed_successfully" {
		t.Error("asterisk does not wait for its configuration to be generated")
	}
	if !slices.Contains(a.Volumes, "asterisk-etc:/etc/asterisk:ro") || !slices.Contains(a.Volumes, "recordings:/var/spool/asterisk/recording") {
		t.Errorf("asterisk volumes %v", a.Volumes)
	}
	for _, p := range a.Ports {
		if strings.Contains(p, "8088") {
			t.Errorf("asterisk publishes ARI (%s) on the host", p)
		}
	}
	if strings.Contains(strings.Join(a.Command, " "), "-v") || strings.Contains(strings.Join(a.Command, " "), "-d") {
		t.Errorf("asterisk runs with verbose or debug console output (%q): it would log callers' numbers", a.Command)
	}

	g := c.Services["asterisk-config"]
	if g.User != "1000:1000" {
		t.Errorf("asterisk-config runs as %q, not Asterisk's uid: Asterisk could not read its 0600 files", g.User)
	}
	if r := c.Services["redis"]; !slices.Contains(r.Command, "--appendonly") || r.Command[slices.Index(r.Command, "--appendonly")+1] != "yes" {
		t.Errorf("redis runs without AOF: %q", r.Command)
	}
	if p := c.Services["postgres"]; !slices.Equal(p.Profiles, []string{"postgres"}) {
		t.Errorf("postgres profiles %v, want [postgres]", p.Profiles)
	}
}

// TestComposeConfigGenerates runs the generator on the compose
// configuration: the files compose mounts must be accepted, and the RTP
// range published must be the one rtp.conf gets.
func TestComposeConfigGenerates(t *testing.T) {
	cfg, err := config.Load(filepath.Join("config", "helpline.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	site, err := asterisk.LoadSite(filepath.Join("config", "asterisk.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := asterisk.Generate(cfg, site, asterisk.PlaceholderSecrets(cfg, site)); err != nil {
		t.Fatalf("compose's configuration does not generate:\n%v", err)
	}
	want := "10000-10199:10000-10199/udp"
	if site.SIP.RTPStart != 10000 || site.SIP.RTPEnd != 10199 || !slices.Contains(load(t).Services["asterisk"].Ports, want) {
		t.Errorf("rtp %d-%d and published ports %v disagree", site.SIP.RTPStart, site.SIP.RTPEnd, load(t).Services["asterisk"].Ports)
	}
}
