package asterisk

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/helpline-it/helpline/config"
)

// confSection is one [section] of an Asterisk configuration file, read
// the way Asterisk's config parser reads it: ; starts a comment unless
// escaped as \;, "[name](!)" is a template, "[name](a,b)" inherits.
type confSection struct {
	name     string
	template bool
	inherits []string
	keys     [][2]string // in order; a key may repeat (allow, match, load)
	exten    []string    // dialplan lines: exten => …, same => …
	line     int
}

func (s *confSection) get(key string) []string {
	var out []string
	for _, kv := range s.keys {
		if kv[0] == key {
			out = append(out, kv[1])
		}
	}
	return out
}

// parseConf parses text, failing the test on anything Asterisk's parser
// would not take as we mean it.
func parseConf(t *testing.T, name, text string) []*confSection {
	t.Helper()
	var out []*confSection
	var cur *confSection
	for i, raw := range strings.Split(text, "\n") {
		n := i + 1
		line := stripComment(raw)
		if strings.TrimSpace(line) == "" {
			continue
		}
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			t.Errorf("%s:%d: directive %q (#include/#exec) in generated config", name, n, line)
			continue
		}
		if strings.HasPrefix(line, "[") {
			end := strings.IndexByte(line, ']')
			if end < 0 {
				t.Fatalf("%s:%d: unterminated section header %q", name, n, line)
			}
			cur = &confSection{name: line[1:end], line: n}
			if rest := strings.TrimSpace(line[end+1:]); rest != "" {
				if !strings.HasPrefix(rest, "(") || !strings.HasSuffix(rest, ")") {
					t.Fatalf("%s:%d: junk after section header: %q", name, n, rest)
				}
				for _, opt := range strings.Split(rest[1:len(rest)-1], ",") {
					if opt == "!" {
						cur.template = true
					} else {
						cur.inherits = append(cur.inherits, opt)
					}
				}
			}
			out = append(out, cur)
			continue
		}
		if cur == nil {
			t.Fatalf("%s:%d: %q before any section", name, n, line)
		}
		if k, v, ok := strings.Cut(line, "=>"); ok {
			cur.exten = append(cur.exten, strings.TrimSpace(k)+" => "+strings.TrimSpace(v))
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("%s:%d: %q is neither key=value nor a section", name, n, line)
		}
		cur.keys = append(cur.keys, [2]string{strings.TrimSpace(k), strings.TrimSpace(strings.ReplaceAll(v, `\;`, ";"))})
	}
	return out
}

// stripComment removes a ; comment, keeping escaped \; in the value.
func stripComment(line string) string {
	for i := 0; i < len(line); i++ {
		if line[i] == ';' && (i == 0 || line[i-1] != '\\') {
			return line[:i]
		}
	}
	return line
}

// resolved returns a section's keys with its templates' keys first, as
// Asterisk applies them.
func resolved(t *testing.T, all []*confSection, s *confSection) *confSection {
	t.Helper()
	r := &confSection{name: s.name, line: s.line}
	for _, tpl := range s.inherits {
		i := slices.IndexFunc(all, func(c *confSection) bool { return c.name == tpl && c.template })
		if i < 0 || all[i].line > s.line {
			t.Errorf("[%s] at line %d inherits %q, which is not a template defined before it", s.name, s.line, tpl)
			continue
		}
		r.keys = append(r.keys, resolved(t, all, all[i]).keys...)
	}
	r.keys = append(r.keys, s.keys...)
	return r
}

// objects returns pjsip.conf's objects by type, templates applied.
func pjsipObjects(t *testing.T, text string) map[string]map[string]*confSection {
	t.Helper()
	all := parseConf(t, "pjsip.conf", text)
	byType := map[string]map[string]*confSection{}
	for _, s := range all {
		if s.template {
			continue
		}
		r := resolved(t, all, s)
		types := r.get("type")
		if len(types) != 1 {
			t.Errorf("pjsip.conf: [%s] at line %d has %d type= lines", s.name, s.line, len(types))
			continue
		}
		if byType[types[0]] == nil {
			byType[types[0]] = map[string]*confSection{}
		}
		if _, dup := byType[types[0]][s.name]; dup {
			t.Errorf("pjsip.conf: two %s objects named %q", types[0], s.name)
		}
		byType[types[0]][s.name] = r
	}
	return byType
}

// generated returns the files of one golden case, freshly generated.
func generated(t *testing.T, siteFile string, replace ...string) (*config.Config, *Site, map[string]string) {
	t.Helper()
	cfg := loadConfig(t, replace...)
	site := loadSite(t, siteFile)
	files, err := Generate(cfg, site, PlaceholderSecrets(cfg, site))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, f := range files {
		out[f.Name] = string(f.Data)
	}
	return cfg, site, out
}

// TestTollFraudRule reads the generated dialplan and SIP configuration
// back and checks, whatever the input, that nothing reachable from the
// trunk or a softphone can place a call: every dialplan line is Stasis or
// Hangup, the trunk's context holds the DIDs and nothing else, the
// operators' context the feature codes and nothing else, and every
// endpoint lands in one of those two contexts.
func TestTollFraudRule(t *testing.T) {
	cases := []struct {
		site    string
		replace []string
	}{
		{site: "site.yaml"},
		{site: "site-ip.yaml"},
		{site: "site-compose.yaml", replace: []string{"http://127.0.0.1:8088", "http://asterisk:8088"}},
		{site: "site-ip.yaml", replace: []string{`service: "1522"` + "\n", nodesYAML}},
	}
	for _, tc := range cases {
		t.Run(tc.site, func(t *testing.T) {
			cfg, site, files := generated(t, tc.site, tc.replace...)
			checkDialplan(t, cfg, site, files["extensions.conf"])
			checkEndpoints(t, cfg, files["pjsip.conf"])
		})
	}
}

func checkDialplan(t *testing.T, cfg *config.Config, site *Site, text string) {
	t.Helper()
	var contexts []string
	var operatorExtens []string
	for _, s := range parseConf(t, "extensions.conf", text) {
		contexts = append(contexts, s.name)
		var extens []string
		for _, l := range s.exten {
			k, v, _ := strings.Cut(l, " => ")
			if k == "same" {
				v = "-," + v // same => priority,application
			}
			parts := strings.SplitN(v, ",", 3)
			if len(parts) != 3 || (k != "exten" && k != "same") {
				t.Errorf("[%s] %q is not exten => extension,priority,application", s.name, l)
				continue
			}
			app, _, _ := strings.Cut(parts[2], "(")
			switch {
			case app == "Dial" && k == "exten" && s.name == contextInternode:
				// The one Dial allowed: to this node's own softphone, by
				// the extension that names it.
				if parts[2] != "Dial(PJSIP/"+parts[0]+")" || !slices.Contains(operatorEndpoints(cfg), parts[0]) {
					t.Errorf("[%s] %q dials something other than the operator's softphone %s", s.name, l, parts[0])
				}
				extens = append(extens, parts[0])
			case app == "Hangup" && k == "same":
			case app == "Stasis" && k == "exten":
				args := strings.TrimSuffix(strings.TrimPrefix(parts[2], "Stasis("), ")")
				if !strings.HasPrefix(args, cfg.ARI.App+",") {
					t.Errorf("[%s] %q enters %q, not the app %s", s.name, l, args, cfg.ARI.App)
				}
				extens = append(extens, parts[0])
			default:
				t.Errorf("[%s] %q runs %s: the dialplan may only enter Stasis and hang up", s.name, l, app)
			}
		}
		switch s.name {
		case contextInbound:
			if !slices.Equal(extens, site.Trunk.DIDs) {
				t.Errorf("[%s] holds %v, want exactly the DIDs %v", s.name, extens, site.Trunk.DIDs)
			}
		case contextOperators:
			operatorExtens = extens
		case contextInternode:
			if !slices.Equal(extens, operatorEndpoints(cfg)) {
				t.Errorf("[%s] holds %v, want exactly the operators' softphones %v", s.name, extens, operatorEndpoints(cfg))
			}
		case "general", "globals":
			if len(extens) > 0 {
				t.Errorf("[%s] holds extensions %v", s.name, extens)
			}
		}
	}
	want := []string{"general", "globals", contextInbound, contextOperators}
	if len(internodeTrunks(cfg)) > 0 {
		want = append(want, contextInternode)
	}
	if !slices.Equal(contexts, want) {
		t.Errorf("contexts %v, want %v", contexts, want)
	}
	want = nil
	for _, f := range config.Features() {
		code := cfg.FeatureCodes[f]
		want = append(want, code)
		if f.TakesArgument() {
			want = append(want, "_"+code+".")
		}
	}
	if !slices.Equal(operatorExtens, want) {
		t.Errorf("operators' context holds %v, want the feature codes %v", operatorExtens, want)
	}
}

func checkEndpoints(t *testing.T, cfg *config.Config, text string) {
	t.Helper()
	objs := pjsipObjects(t, text)
	trunk := strings.TrimPrefix(cfg.Trunk.Dial, "PJSIP/{number}@")
	var operators []string
	for _, o := range cfg.Operators {
		operators = append(operators, strings.TrimPrefix(o.Endpoint, "PJSIP/"))
	}
	internode := internodeTrunks(cfg)
	if len(objs["endpoint"]) != len(operators)+1+len(internode) {
		t.Errorf("%d endpoints, want %d operators, the trunk and %d inter-node trunks", len(objs["endpoint"]), len(operators), len(internode))
	}
	for name, e := range objs["endpoint"] {
		ctx := e.get("context")
		want := contextOperators
		if name == trunk {
			want = contextInbound
		} else if slices.Contains(internode, name) {
			want = contextInternode
		} else if !slices.Contains(operators, name) {
			t.Errorf("endpoint %q is neither the trunk nor an operator", name)
		}
		if !slices.Equal(ctx, []string{want}) {
			t.Errorf("endpoint %q: context %v, want %s", name, ctx, want)
		}
		if slices.Contains(operators, name) {
			auth := e.get("auth")
			if len(auth) != 1 || objs["auth"][auth[0]] == nil {
				t.Errorf("operator endpoint %q: auth %v does not name an auth object, so anyone could register as her", name, auth)
			}
			if cid := e.get("callerid"); len(cid) != 1 || !strings.Contains(cid[0], "<"+cfg.Operators[slices.Index(operators, name)].ID+">") {
				t.Errorf("operator endpoint %q: callerid %v is not pinned to the operator id", name, cid)
			}
		}
		for _, ref := range [][2]string{{"aors", "aor"}, {"auth", "auth"}, {"outbound_auth", "auth"}} {
			for _, v := range e.get(ref[0]) {
				if objs[ref[1]][v] == nil {
					t.Errorf("endpoint %q: %s=%s names no %s object", name, ref[0], v, ref[1])
				}
			}
		}
		if dtmf := e.get("dtmf_mode"); !slices.Equal(dtmf, []string{"rfc4733"}) {
			t.Errorf("endpoint %q: dtmf_mode %v", name, dtmf)
		}
		if allow := e.get("allow"); len(allow) == 0 || slices.Contains(allow, "all") {
			t.Errorf("endpoint %q: allow %v", name, allow)
		}
	}
	for name, id := range objs["identify"] {
		if ep := id.get("endpoint"); len(ep) != 1 || (ep[0] != trunk && !slices.Contains(internode, ep[0])) {
			t.Errorf("identify %q matches addresses to %v: only the trunks are identified by address", name, ep)
		}
	}
	for _, g := range objs["global"] {
		if order := strings.Join(g.get("endpoint_identifier_order"), ","); strings.Contains(order, "anonymous") {
			t.Errorf("endpoint_identifier_order %q admits anonymous calls", order)
		}
	}
	for name, aor := range objs["aor"] {
		if name != trunk && !slices.Contains(internode, name) && !slices.Equal(aor.get("max_contacts"), []string{"1"}) {
			t.Errorf("aor %q: max_contacts %v, want 1 (one softphone per operator)", name, aor.get("max_contacts"))
		}
	}
}

func TestParseConfSeesComments(t *testing.T) {
	// The checker must not be fooled: an escaped ; is a value, a bare one
	// a comment.
	s := parseConf(t, "x.conf", "[a]\nk=v\\;w ; comment\nj=1;2\n")
	if got := fmt.Sprint(s[0].keys); got != "[[k v;w] [j 1]]" {
		t.Errorf("keys = %s", got)
	}
}

// operatorEndpoints are the operators' softphone endpoint ids, in order.
func operatorEndpoints(cfg *config.Config) []string {
	var out []string
	for _, o := range cfg.Operators {
		out = append(out, strings.TrimPrefix(o.Endpoint, "PJSIP/"))
	}
	return out
}

// internodeTrunks are the endpoint ids of the trunks to the other nodes.
func internodeTrunks(cfg *config.Config) []string {
	var out []string
	for id, n := range cfg.Nodes {
		if id != cfg.NodeID {
			out = append(out, strings.TrimPrefix(n.Trunk, "PJSIP/"))
		}
	}
	return out
}
