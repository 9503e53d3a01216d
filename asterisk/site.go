package asterisk

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/helpline-it/helpline/config"
)

// Site holds what the Asterisk configuration needs and helpline.yaml does
// not model: where SIP listens, the provider's trunk, the helpline's
// numbers (DIDs), codecs and the RTP port range. These are facts about one
// installation's network and contract, not about the switchboard's
// behaviour, so they live in their own small file (asterisk.yaml, see
// ExampleSite) instead of growing helpline.yaml.
type Site struct {
	// File is the name the site file was read from ("" for DefaultSite).
	File string
	HTTP SiteHTTP
	SIP  SiteSIP
	// Codecs are offered to operators' softphones, in order of
	// preference (default ulaw, alaw).
	Codecs []string
	// MusicOnHoldDir holds the files of helpline's music-on-hold class
	// (default /var/lib/asterisk/moh/helpline).
	MusicOnHoldDir string
	Trunk          SiteTrunk

	// lines maps each key path set in the file to its line, for errors.
	lines map[string]int
}

// SiteHTTP is Asterisk's HTTP server, which carries ARI.
type SiteHTTP struct {
	// Bind is the IP address http.conf binds (default 127.0.0.1). Only
	// set another when helpline reaches Asterisk over a private network,
	// e.g. 0.0.0.0 inside a container network.
	Bind string
}

// SiteSIP is the SIP transport shared by the trunk and the softphones.
type SiteSIP struct {
	// Bind is IP:port (default 0.0.0.0:5060).
	Bind string
	// Protocol is udp (default) or tcp.
	Protocol string
	// ExternalAddress is the public address Asterisk is reached at when
	// it sits behind NAT (a container network, a cloud VM); empty when
	// its own address is public.
	ExternalAddress string
	// LocalNet lists the networks (CIDR) that are not behind that NAT.
	LocalNet []string
	// RTPStart and RTPEnd bound the UDP ports used for audio (default
	// 10000–20000); four ports per call in progress.
	RTPStart, RTPEnd int
}

// SiteTrunk is the SIP provider's trunk: calls arrive through it on the
// DIDs, and helpline calls the anti-violence network through it.
type SiteTrunk struct {
	// Host is the provider's SIP server (name or IP, no port).
	Host string
	// Port is its SIP port (default 5060).
	Port int
	// Username and Password authenticate us to the provider; both empty
	// when the provider authenticates by IP address.
	Username string
	Password config.SecretRef
	// FromUser and FromDomain go in the From header of our calls, when the
	// provider wants them (often the account number and its domain).
	FromUser   string
	FromDomain string
	// Register makes Asterisk register to the provider (needs Username and
	// Password); providers that route by IP do not need it.
	Register bool
	// Match lists the addresses (IP, CIDR or host name) the provider's
	// requests come from (default: Host).
	Match []string
	// Codecs offered to the provider (default alaw, ulaw: the PSTN's).
	Codecs []string
	// DIDs are the helpline's numbers as the provider sends them in the
	// request URI, digits only. Each enters Stasis(app,inbound); any other
	// number is refused.
	DIDs []string
}

// Defaults of the site file.
const (
	DefaultHTTPBind       = "127.0.0.1"
	DefaultSIPBind        = "0.0.0.0:5060"
	DefaultRTPStart       = 10000
	DefaultRTPEnd         = 20000
	DefaultMusicOnHoldDir = "/var/lib/asterisk/moh/helpline"
)

// DefaultSite returns the site with every default filled in and no trunk
// host nor DID: Generate refuses it until those are set.
func DefaultSite() *Site {
	return &Site{
		HTTP:           SiteHTTP{Bind: DefaultHTTPBind},
		SIP:            SiteSIP{Bind: DefaultSIPBind, Protocol: "udp", RTPStart: DefaultRTPStart, RTPEnd: DefaultRTPEnd},
		Codecs:         []string{"ulaw", "alaw"},
		MusicOnHoldDir: DefaultMusicOnHoldDir,
		Trunk: SiteTrunk{
			Port:     5060,
			Password: config.SecretRef{Key: "trunk.password"},
			Codecs:   []string{"alaw", "ulaw"},
		},
		lines: map[string]int{},
	}
}

// LoadSite reads the site file at path. Relative secret file paths in it
// are taken relative to its directory.
func LoadSite(path string) (*Site, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("asterisk: site file: %w", err)
	}
	return ParseSite(path, data)
}

// ParseSite parses a site file, naming it name in errors. It checks shapes
// (unknown keys, types, secrets written in clear); values are checked
// against helpline.yaml by Generate. Problems come back as config.Errors,
// every one at once.
func ParseSite(name string, data []byte) (*Site, error) {
	s := DefaultSite()
	s.File = name
	d := &siteDecoder{file: name, dir: filepath.Dir(name), site: s}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	switch err := dec.Decode(&doc); {
	case errors.Is(err, io.EOF):
		return nil, config.Errors{{File: name, Msg: "the file is empty; see `helpline asterisk-config --example-site`"}}
	case err != nil:
		return nil, config.Errors{{File: name, Msg: "not valid YAML: " + strings.TrimPrefix(err.Error(), "yaml: ")}}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, config.Errors{{File: name, Line: extra.Line, Msg: "holds more than one YAML document; keep one"}}
	}
	d.document(&doc)
	if len(d.errs) > 0 {
		return nil, d.errs
	}
	return s, nil
}

// siteDecoder walks the YAML tree by hand, like package config does, so
// that every problem gets its line and key path and unknown keys are
// refused at any depth.
type siteDecoder struct {
	file, dir string
	site      *Site
	errs      config.Errors
}

func (d *siteDecoder) fail(n *yaml.Node, path, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	d.errs = append(d.errs, &config.Error{File: d.file, Line: line, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// resolve follows one alias; the file is small and only scalars and lists
// of scalars are read through it, so there is no expansion to bound.
func resolve(n *yaml.Node) *yaml.Node {
	if n != nil && n.Kind == yaml.AliasNode {
		return n.Alias
	}
	return n
}

func (d *siteDecoder) document(doc *yaml.Node) {
	root := doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	s := d.site
	d.mapping(root, "", map[string]func(*yaml.Node, string){
		"http": func(n *yaml.Node, p string) {
			d.mapping(n, p, map[string]func(*yaml.Node, string){"bind": d.str(&s.HTTP.Bind)}, nil)
		},
		"sip": func(n *yaml.Node, p string) {
			d.mapping(n, p, map[string]func(*yaml.Node, string){
				"bind":             d.str(&s.SIP.Bind),
				"protocol":         d.str(&s.SIP.Protocol),
				"external_address": d.str(&s.SIP.ExternalAddress),
				"local_net":        d.strList(&s.SIP.LocalNet),
				"rtp_start":        d.integer(&s.SIP.RTPStart),
				"rtp_end":          d.integer(&s.SIP.RTPEnd),
			}, nil)
		},
		"codecs":            d.strList(&s.Codecs),
		"music_on_hold_dir": d.str(&s.MusicOnHoldDir),
		"trunk": func(n *yaml.Node, p string) {
			t := &s.Trunk
			d.mapping(n, p, map[string]func(*yaml.Node, string){
				"host":          d.str(&t.Host),
				"port":          d.integer(&t.Port),
				"username":      d.str(&t.Username),
				"password_env":  d.str(&t.Password.Env),
				"password_file": d.path(&t.Password.File),
				"from_user":     d.str(&t.FromUser),
				"from_domain":   d.str(&t.FromDomain),
				"register":      d.boolean(&t.Register),
				"match":         d.strList(&t.Match),
				"codecs":        d.strList(&t.Codecs),
				"dids":          d.strList(&t.DIDs),
			}, map[string]string{
				"password": "secrets are never written in this file; set trunk.password_env (an environment variable) or trunk.password_file (a file)",
				"secret":   "secrets are never written in this file; set trunk.password_env (an environment variable) or trunk.password_file (a file)",
			})
		},
	}, nil)
}

// mapping decodes mapping n with one handler per accepted key. Keys in
// refused would hold a secret in clear: they get their advice, and their
// value is never echoed.
func (d *siteDecoder) mapping(n *yaml.Node, path string, fields map[string]func(*yaml.Node, string), refused map[string]string) {
	n = resolve(n)
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "must be a mapping of keys to values")
		return
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		p := k.Value
		if path != "" {
			p = path + "." + k.Value
		}
		if first, dup := seen[k.Value]; dup {
			d.fail(k, p, "set twice (first on line %d)", first)
			continue
		}
		seen[k.Value] = k.Line
		if advice, ok := refused[k.Value]; ok {
			d.fail(k, p, "%s", advice)
			continue
		}
		h, ok := fields[k.Value]
		if !ok {
			d.fail(k, p, "unknown key")
			continue
		}
		d.site.lines[p] = k.Line
		h(v, p)
	}
}

func (d *siteDecoder) scalar(n *yaml.Node, path string) (string, bool) {
	n = resolve(n)
	if n.Kind != yaml.ScalarNode {
		d.fail(n, path, "must be a single value")
		return "", false
	}
	if n.Tag == "!!null" {
		return "", true
	}
	return n.Value, true
}

func (d *siteDecoder) str(dst *string) func(*yaml.Node, string) {
	return func(n *yaml.Node, p string) {
		if v, ok := d.scalar(n, p); ok {
			*dst = strings.TrimSpace(v)
		}
	}
}

// path decodes a file path, relative to the site file's directory.
func (d *siteDecoder) path(dst *string) func(*yaml.Node, string) {
	return func(n *yaml.Node, p string) {
		if v, ok := d.scalar(n, p); ok && v != "" {
			if !filepath.IsAbs(v) {
				v = filepath.Join(d.dir, v)
			}
			*dst = v
		}
	}
}

func (d *siteDecoder) integer(dst *int) func(*yaml.Node, string) {
	return func(n *yaml.Node, p string) {
		v, ok := d.scalar(n, p)
		if !ok {
			return
		}
		i, err := strconv.Atoi(v)
		if err != nil {
			d.fail(n, p, "%q is not a whole number", truncate(v))
			return
		}
		*dst = i
	}
}

func (d *siteDecoder) boolean(dst *bool) func(*yaml.Node, string) {
	return func(n *yaml.Node, p string) {
		v, ok := d.scalar(n, p)
		if !ok {
			return
		}
		switch strings.ToLower(v) {
		case "true", "yes", "on":
			*dst = true
		case "false", "no", "off":
			*dst = false
		default:
			d.fail(n, p, "%q is not true or false", truncate(v))
		}
	}
}

// strList accepts a list of values, or one value for a list of one.
func (d *siteDecoder) strList(dst *[]string) func(*yaml.Node, string) {
	return func(n *yaml.Node, p string) {
		n = resolve(n)
		if n.Kind == yaml.ScalarNode {
			d.site.lines[p+"[0]"] = n.Line
			if v, ok := d.scalar(n, p); ok && v != "" {
				*dst = []string{strings.TrimSpace(v)}
			} else if ok {
				*dst = nil
			}
			return
		}
		if n.Kind != yaml.SequenceNode {
			d.fail(n, p, "must be a list of values")
			return
		}
		out := make([]string, 0, len(n.Content))
		for i, item := range n.Content {
			ip := fmt.Sprintf("%s[%d]", p, i)
			d.site.lines[ip] = item.Line
			if v, ok := d.scalar(item, ip); ok {
				out = append(out, strings.TrimSpace(v))
			}
		}
		*dst = out
	}
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:37] + "..."
	}
	return s
}

//go:embed example-site.yaml
var exampleSite []byte

// ExampleSite returns the commented example site file, printed by
// `helpline asterisk-config --example-site`; it parses as it is.
func ExampleSite() []byte { return slices.Clone(exampleSite) }
