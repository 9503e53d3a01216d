package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// decoder walks the YAML node tree by hand instead of unmarshalling into
// tagged structs: that is what lets it report every problem at once, each
// with its line and key path, refuse unknown keys at any depth and refuse
// secrets written in clear. It checks shapes and formats; validate (in
// validate.go) then checks values against each other.
type decoder struct {
	file string
	dir  string // relative paths in the file are relative to it
	errs Errors
	// lines maps each key path set in the file to its line, so that later
	// checks can point at the line a value came from.
	lines map[string]int
	// bad holds the paths whose value was refused, so that later checks do
	// not pile a second, confusing error on the same key.
	bad map[string]bool
	// budget bounds the nodes visited: aliases let a small file name a
	// structure many times over.
	budget int
	// exhausted is the error reported when the budget ran out; it is then
	// the only error, since everything after it went unread.
	exhausted *Error
	// decoded is set once the document's top level was a mapping, i.e. the
	// file is a configuration at all and semantic checks make sense.
	decoded bool
	// literal holds the sections where a secret was written in clear, so
	// that they do not also get "password_env: missing" for the same
	// mistake.
	literal map[string]bool
	// known collects every key name a visited mapping accepts; a test uses
	// it to check that example.yaml documents every key.
	known map[string]bool
	// prompts are the prompts set in the file, before defaults: they can
	// only be checked once the languages are known.
	prompts map[string]map[PromptID]Prompt
}

func newDecoder(file string) *decoder {
	return &decoder{
		file:    file,
		dir:     filepath.Dir(file),
		lines:   map[string]int{},
		bad:     map[string]bool{},
		budget:  200_000,
		known:   map[string]bool{},
		literal: map[string]bool{},
		prompts: map[string]map[PromptID]Prompt{},
	}
}

// handler decodes the value v found at key path p.
type handler func(v *yaml.Node, p string)

// fields maps the keys a mapping accepts to their handlers.
type fields map[string]handler

func (d *decoder) errorAt(line int, path, format string, args ...any) {
	d.errs = append(d.errs, &Error{File: d.file, Line: line, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// fail reports a problem with node n at path and marks the path refused.
func (d *decoder) fail(n *yaml.Node, path, format string, args ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	d.bad[path] = true
	d.errorAt(line, path, format, args...)
}

// failPath reports a problem found after decoding, at the line the key was
// set on (or its nearest ancestor's), unless the key or an ancestor could
// not be decoded: that already has its error, and its value here is only
// the default.
func (d *decoder) failPath(path, format string, args ...any) {
	if d.refused(path) {
		return
	}
	d.errorAt(d.lineOf(path), path, format, args...)
}

// refused reports whether path or one of its ancestors was refused.
func (d *decoder) refused(path string) bool {
	for p := path; p != ""; p = parentPath(p) {
		if d.bad[p] {
			return true
		}
	}
	return false
}

// lineOf returns the line path (or its nearest ancestor) was set on.
func (d *decoder) lineOf(path string) int {
	for p := path; p != ""; p = parentPath(p) {
		if l, ok := d.lines[p]; ok {
			return l
		}
	}
	return 0
}

// set reports whether the file sets path.
func (d *decoder) set(path string) bool {
	_, ok := d.lines[path]
	return ok
}

func parentPath(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

// yamlLine matches the position yaml.v3 puts in its syntax errors.
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlAnchor matches yaml.v3's error for an alias with no anchor, which is
// what an unquoted feature code such as *11 is to YAML.
var yamlAnchor = regexp.MustCompile(`^yaml: unknown anchor '(.*)' referenced$`)

// document decodes data into c.
func (d *decoder) document(data []byte, c *Config) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			d.errorAt(0, "", "the file is empty; start from `helpline config example`")
			return
		}
		d.syntax(data, err)
		return
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		d.errorAt(extra.Line, "", "a second YAML document starts here; keep the whole configuration in one")
		return
	case !errors.Is(err, io.EOF):
		d.syntax(data, err)
		return
	}
	if len(doc.Content) != 1 {
		d.errorAt(0, "", "the file is empty; start from `helpline config example`")
		return
	}
	d.root(doc.Content[0], c)
}

// syntax reports a YAML syntax error with the line yaml.v3 gives (which is
// approximate for some errors) or, for an unknown anchor, the line of the
// alias and the likely cause.
func (d *decoder) syntax(data []byte, err error) {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		// yaml.v3 counts lines from 1 in scanner errors but from 0 in
		// parser errors; parser errors are the ones below.
		for _, prefix := range []string{"did not find expected", "found undefined tag handle", "found duplicate", "found incompatible"} {
			if strings.HasPrefix(m[2], prefix) {
				line++
				break
			}
		}
		d.errorAt(line, "", "invalid YAML: %s", m[2])
		return
	}
	if m := yamlAnchor.FindStringSubmatch(msg); m != nil {
		line := 0
		for i, l := range strings.Split(string(data), "\n") {
			if strings.Contains(l, "*"+m[1]) {
				line = i + 1
				break
			}
		}
		d.errorAt(line, "", "invalid YAML: *%s is read as an alias; quote values starting with * (\"*%s\")", m[1], m[1])
		return
	}
	d.errorAt(0, "", "invalid YAML: %s", strings.TrimPrefix(msg, "yaml: "))
}

// resolve follows aliases and charges the visit to the budget; it returns
// nil once the budget is spent (reporting that once).
func (d *decoder) resolve(n *yaml.Node) *yaml.Node {
	for range 8 {
		if n == nil || n.Kind != yaml.AliasNode {
			break
		}
		n = n.Alias
	}
	if n == nil || n.Kind == yaml.AliasNode {
		return nil
	}
	d.budget--
	if d.budget == 0 {
		d.exhausted = &Error{File: d.file, Line: n.Line, Msg: "the document is too large or repeats aliases too often"}
	}
	if d.budget <= 0 {
		return nil
	}
	return n
}

// describeAt is describe, except that under sections that hold secret
// references it does not quote strings: `privacy: <the key itself>` must
// not put the key in the error.
func describeAt(n *yaml.Node, path string) string {
	section, _, _ := strings.Cut(path, ".")
	switch section {
	case "ari", "redis", "cdr", "privacy", "http":
		if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" {
			return "a string"
		}
	}
	return describe(n)
}

// describe names what a node is, for "expected X, got Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null":
			return "nothing"
		case "!!bool":
			return "true/false"
		case "!!int", "!!float":
			return "the number " + n.Value
		}
		return strconv.Quote(truncate(n.Value))
	}
	return "something else"
}

func truncate(s string) string {
	if len(s) > 40 {
		return s[:37] + "..."
	}
	return s
}

// entries calls fn for each key of mapping n, refusing non-mappings,
// non-string keys, merge keys and keys set twice. A null value (a key with
// nothing after it) counts as an empty mapping.
func (d *decoder) entries(n *yaml.Node, path string, fn func(k *yaml.Node, name string, v *yaml.Node, p string)) {
	if n = d.resolve(n); n == nil {
		return
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "expected a mapping of keys, got %s", describeAt(n, path))
		return
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := d.resolve(n.Content[i]), n.Content[i+1]
		if k == nil {
			return
		}
		if k.Kind != yaml.ScalarNode || k.ShortTag() == "!!null" {
			d.fail(k, path, "expected a key name, got %s", describe(k))
			continue
		}
		if k.ShortTag() == "!!merge" {
			d.fail(k, path, "merge keys (<<) are not supported; write the keys out")
			continue
		}
		p := join(path, k.Value)
		if first, dup := seen[k.Value]; dup {
			d.fail(k, p, "set twice (first on line %d)", first)
			continue
		}
		seen[k.Value] = k.Line
		fn(k, k.Value, v, p)
	}
}

// literal maps key names that would hold a secret in clear (password,
// hmac_key) to what to write instead.
type literal map[string]string

// sipSecret is the advice for SIP credentials, which Asterisk holds.
func sipSecret() literal {
	const advice = "SIP credentials belong in Asterisk's pjsip.conf, not in this file"
	return literal{"password": advice, "secret": advice}
}

// useRef is the advice for a secret that has name_env and name_file keys.
func useRef(name string) string {
	return fmt.Sprintf("secrets must not be written in the configuration file; set %s_env (the name of an environment variable) or %s_file (the path of a file) instead", name, name)
}

// mapping decodes mapping n with the handlers in f. Keys in secrets would
// hold a secret in clear: they get their advice instead of "unknown key",
// and their value is never echoed.
func (d *decoder) mapping(n *yaml.Node, path string, f fields, secrets literal) {
	for k := range f {
		d.known[k] = true
	}
	d.entries(n, path, func(k *yaml.Node, name string, v *yaml.Node, p string) {
		if h, ok := f[name]; ok {
			d.lines[p] = k.Line
			h(v, p)
			return
		}
		if advice, ok := secrets[name]; ok {
			d.literal[path] = true
			d.fail(k, p, "%s", advice)
			return
		}
		d.fail(k, p, "unknown key%s", suggest(name, f))
	})
}

// suggest proposes the known key closest to a misspelt one, or lists them.
func suggest(name string, f fields) string {
	known := make([]string, 0, len(f))
	for k := range f {
		known = append(known, k)
	}
	slices.Sort(known)
	best, bestDist := "", 3
	for _, k := range known {
		if dist := editDistance(strings.ToLower(name), k); dist < bestDist {
			best, bestDist = k, dist
		}
	}
	if best != "" {
		return fmt.Sprintf(" (did you mean %q?)", best)
	}
	return " (known keys: " + strings.Join(known, ", ") + ")"
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// scalar returns the text of a scalar node, refusing mappings, lists, null
// and non-standard tags.
func (d *decoder) scalar(n *yaml.Node, path, want string) (*yaml.Node, bool) {
	if n = d.resolve(n); n == nil {
		return nil, false
	}
	if n.Kind != yaml.ScalarNode {
		d.fail(n, path, "expected %s, got %s", want, describeAt(n, path))
		return nil, false
	}
	switch n.ShortTag() {
	case "!!null":
		d.fail(n, path, "has no value; expected %s", want)
		return nil, false
	case "!!str", "!!int", "!!float", "!!bool", "!!timestamp":
		return n, true
	}
	d.fail(n, path, "unsupported YAML tag %s", n.Tag)
	return nil, false
}

// str decodes a string. Numbers are taken as written (service: 1522).
func (d *decoder) str(n *yaml.Node, path string) (string, bool) {
	n, ok := d.scalar(n, path, "a string")
	if !ok {
		return "", false
	}
	if n.ShortTag() == "!!bool" {
		d.fail(n, path, "expected a string, got %s (quote it if you mean the text)", n.Value)
		return "", false
	}
	return n.Value, true
}

func (d *decoder) setString(dst *string) handler {
	return func(v *yaml.Node, p string) {
		if s, ok := d.str(v, p); ok {
			*dst = s
		}
	}
}

// setPath decodes a filesystem path, resolving a relative one against the
// configuration file's directory.
func (d *decoder) setPath(dst *string) handler {
	return func(v *yaml.Node, p string) {
		s, ok := d.str(v, p)
		if !ok {
			return
		}
		if s == "" {
			d.fail(v, p, "is empty; give a path")
			return
		}
		*dst = d.path(s)
	}
}

func (d *decoder) path(s string) string {
	if filepath.IsAbs(s) || strings.HasPrefix(s, ":") || strings.HasPrefix(s, "file:") {
		return s
	}
	return filepath.Join(d.dir, s)
}

func (d *decoder) setBool(dst *bool) handler {
	return func(v *yaml.Node, p string) {
		n, ok := d.scalar(v, p, "true or false")
		if !ok {
			return
		}
		b, err := strconv.ParseBool(n.Value)
		if n.ShortTag() != "!!bool" || err != nil {
			d.fail(n, p, "expected true or false, got %s", describe(n))
			return
		}
		*dst = b
	}
}

func (d *decoder) setInt(dst *int) handler {
	return func(v *yaml.Node, p string) {
		n, ok := d.scalar(v, p, "a whole number")
		if !ok {
			return
		}
		i, err := strconv.ParseInt(n.Value, 0, 32)
		if n.ShortTag() != "!!int" || err != nil {
			d.fail(n, p, "expected a whole number, got %s", describe(n))
			return
		}
		*dst = int(i)
	}
}

// setDuration decodes a duration (see ParseDuration). No duration in the
// configuration may be negative.
func (d *decoder) setDuration(dst *time.Duration) handler {
	return func(v *yaml.Node, p string) {
		n, ok := d.scalar(v, p, "a duration")
		if !ok {
			return
		}
		dur, err := ParseDuration(n.Value)
		if err != nil {
			d.fail(n, p, "%v", err)
			return
		}
		if dur < 0 {
			d.fail(n, p, "%q is negative; durations are 0 or more", n.Value)
			return
		}
		*dst = dur
	}
}

// list calls fn for each item of sequence n. Null counts as empty.
func (d *decoder) list(n *yaml.Node, path, want string, fn func(i int, item *yaml.Node, p string)) bool {
	if n = d.resolve(n); n == nil {
		return false
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return true
	}
	if n.Kind != yaml.SequenceNode {
		d.fail(n, path, "expected %s, got %s", want, describe(n))
		return false
	}
	for i, item := range n.Content {
		p := index(path, i)
		d.lines[p] = item.Line
		fn(i, item, p)
	}
	return true
}

func (d *decoder) setStrings(dst *[]string) handler {
	return func(v *yaml.Node, p string) {
		var out []string
		ok := d.list(v, p, "a list of strings", func(_ int, item *yaml.Node, ip string) {
			if s, ok := d.str(item, ip); ok {
				out = append(out, s)
			}
		})
		if ok {
			*dst = out
		}
	}
}

// secret adds the handlers for name_env and name_file, filling ref.
func (d *decoder) secret(f fields, name string, ref *SecretRef) {
	f[name+"_env"] = func(v *yaml.Node, p string) {
		s, ok := d.str(v, p)
		if !ok {
			return
		}
		// The value is never echoed: a password pasted here by mistake
		// must not end up in a CI log.
		if !envName.MatchString(s) {
			d.fail(v, p, "is not an environment variable name (letters, digits and _, not starting with a digit)")
			return
		}
		ref.Env = s
	}
	f[name+"_file"] = func(v *yaml.Node, p string) {
		s, ok := d.str(v, p)
		if !ok {
			return
		}
		if s == "" || strings.ContainsAny(s, "\n\x00") {
			d.fail(v, p, "is not a file path")
			return
		}
		ref.File = d.path(s)
	}
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// root decodes the top-level mapping.
func (d *decoder) root(n *yaml.Node, c *Config) {
	if r := d.resolve(n); r != nil && r.Kind != yaml.MappingNode {
		d.errorAt(r.Line, "", "expected a mapping of keys (service, ari, languages, …) at the top of the file, got %s", describe(r))
		return
	}
	d.decoded = true
	d.mapping(n, "", fields{
		"service":       d.setString(&c.Service),
		"timezone":      d.setString(&c.Timezone),
		"node_id":       d.setString(&c.NodeID),
		"ari":           func(v *yaml.Node, p string) { d.ari(v, p, &c.ARI) },
		"redis":         func(v *yaml.Node, p string) { d.redis(v, p, &c.Redis) },
		"cdr":           func(v *yaml.Node, p string) { d.cdr(v, p, &c.CDR) },
		"privacy":       func(v *yaml.Node, p string) { d.privacy(v, p, &c.Privacy) },
		"http":          func(v *yaml.Node, p string) { d.http(v, p, &c.HTTP) },
		"languages":     func(v *yaml.Node, p string) { d.languages(v, p, c) },
		"ivr":           func(v *yaml.Node, p string) { d.ivr(v, p, &c.IVR) },
		"queue":         func(v *yaml.Node, p string) { d.queue(v, p, &c.Queue) },
		"blacklist":     func(v *yaml.Node, p string) { d.blacklist(v, p, &c.Blacklist) },
		"operators":     func(v *yaml.Node, p string) { d.operators(v, p, c) },
		"feature_codes": func(v *yaml.Node, p string) { d.featureCodes(v, p, c.FeatureCodes) },
		"trunk":         func(v *yaml.Node, p string) { d.trunk(v, p, &c.Trunk) },
		"prompts":       func(v *yaml.Node, p string) { d.promptSets(v, p) },
		"nodes":         func(v *yaml.Node, p string) { d.nodes(v, p, c) },
	}, literal{"password": useRef("ari.password"), "hmac_key": useRef("privacy.hmac_key")})
}

func (d *decoder) ari(n *yaml.Node, path string, a *ARI) {
	f := fields{
		"url":      d.setString(&a.URL),
		"app":      d.setString(&a.App),
		"username": d.setString(&a.Username),
	}
	d.secret(f, "password", &a.Password)
	d.mapping(n, path, f, literal{"password": useRef("password")})
}

func (d *decoder) redis(n *yaml.Node, path string, r *Redis) {
	f := fields{
		"addr":       d.setString(&r.Addr),
		"db":         d.setInt(&r.DB),
		"key_prefix": d.setString(&r.KeyPrefix),
		"sentinel":   func(v *yaml.Node, p string) { r.Sentinel = &RedisSentinel{}; d.redisSentinel(v, p, r.Sentinel) },
	}
	d.secret(f, "password", &r.Password)
	d.mapping(n, path, f, literal{"password": useRef("password")})
}

func (d *decoder) cdr(n *yaml.Node, path string, c *CDR) {
	f := fields{
		"driver":    d.setString(&c.Driver),
		"path":      d.setPath(&c.Path),
		"dsn":       d.setString(&c.DSN),
		"spool_dir": d.setPath(&c.SpoolDir),
	}
	d.secret(f, "password", &c.Password)
	d.mapping(n, path, f, literal{"password": useRef("password")})
}

func (d *decoder) privacy(n *yaml.Node, path string, p *Privacy) {
	f := fields{}
	d.secret(f, "hmac_key", &p.HMACKey)
	d.mapping(n, path, f, literal{"hmac_key": useRef("hmac_key"), "key": useRef("hmac_key")})
}

func (d *decoder) http(n *yaml.Node, path string, h *HTTP) {
	f := fields{
		"listen":       d.setString(&h.Listen),
		"allow_public": d.setBool(&h.AllowPublic),
	}
	d.secret(f, "admin_token", &h.AdminToken)
	d.mapping(n, path, f, literal{"admin_token": useRef("admin_token"), "token": useRef("admin_token")})
}

// languages decodes the map of language code → language. The slice is
// put in menu order by validate, once digits are known to be right.
func (d *decoder) languages(n *yaml.Node, path string, c *Config) {
	c.Languages = nil
	d.entries(n, path, func(k *yaml.Node, code string, v *yaml.Node, p string) {
		d.lines[p] = k.Line
		l := Language{Code: code}
		d.mapping(v, p, fields{
			"name": d.setString(&l.Name),
			"digit": func(v *yaml.Node, p string) {
				if s, ok := d.str(v, p); ok {
					if len(s) != 1 || s[0] < '0' || s[0] > '9' {
						d.fail(v, p, "%q is not a menu digit (0 to 9)", truncate(s))
						return
					}
					l.Digit = s
				}
			},
			"hours": func(v *yaml.Node, p string) { d.hours(v, p, &l.Hours) },
		}, nil)
		c.Languages = append(c.Languages, l)
	})
}

// hours decodes `always` or a list of windows.
func (d *decoder) hours(n *yaml.Node, path string, h *Hours) {
	const want = `"always" or a list of windows ({days, from, to})`
	if r := d.resolve(n); r != nil && r.Kind == yaml.ScalarNode && r.ShortTag() != "!!null" {
		if r.Value != "always" {
			d.fail(r, path, "expected %s, got %s", want, describe(r))
			return
		}
		*h = Hours{Always: true}
		return
	}
	var windows []Window
	ok := d.list(n, path, want, func(_ int, item *yaml.Node, p string) {
		if w, ok := d.window(item, p); ok {
			windows = append(windows, w)
		}
	})
	if !ok {
		return
	}
	if len(windows) == 0 && !d.refused(path) && !d.hasRefusedChild(path) {
		d.fail(n, path, "no windows; write always or list at least one window")
		return
	}
	*h = Hours{Windows: windows}
}

// hasRefusedChild reports whether a key under path was refused.
func (d *decoder) hasRefusedChild(path string) bool {
	for p := range d.bad {
		if strings.HasPrefix(p, path+".") || strings.HasPrefix(p, path+"[") {
			return true
		}
	}
	return false
}

// window decodes one {days, from, to}.
func (d *decoder) window(n *yaml.Node, path string) (Window, bool) {
	var w Window
	var days [7]bool
	var from, to *yaml.Node
	d.mapping(n, path, fields{
		"days": func(v *yaml.Node, p string) {
			d.list(v, p, "a list of days like [mon-fri, sun]", func(_ int, item *yaml.Node, ip string) {
				s, ok := d.str(item, ip)
				if !ok {
					return
				}
				ds, err := parseDays(s)
				if err != nil {
					d.fail(item, ip, "%v", err)
					return
				}
				for _, day := range ds {
					if days[day] {
						d.fail(item, ip, "%s is listed twice", dayNames[day])
						return
					}
					days[day] = true
				}
			})
		},
		"from": func(v *yaml.Node, p string) { w.From, from = d.timeOfDay(v, p), v },
		"to":   func(v *yaml.Node, p string) { w.To, to = d.timeOfDay(v, p), v },
	}, nil)
	if d.refused(path) {
		return w, false
	}
	complete := true
	for _, key := range []string{"days", "from", "to"} {
		if !d.set(join(path, key)) {
			d.failPath(join(path, key), "missing (a window is {days: [mon-fri], from: \"08:00\", to: \"20:00\"})")
			complete = false
		}
	}
	if !complete {
		d.bad[path] = true // reported; keeps hours from adding "no windows"
		return w, false
	}
	if d.hasRefusedChild(path) {
		return w, false
	}
	for day, on := range days {
		if on {
			w.Days = append(w.Days, time.Weekday(day))
		}
	}
	if len(w.Days) == 0 {
		d.failPath(join(path, "days"), "no days listed")
		return w, false
	}
	if w.From == EndOfDay {
		d.fail(from, join(path, "from"), "a window cannot start at 24:00")
		return w, false
	}
	if w.To <= w.From {
		d.fail(to, join(path, "to"), "%q is not after from %q; a window cannot cross midnight, split it in two", w.To.String(), w.From.String())
		return w, false
	}
	return w, true
}

func (d *decoder) timeOfDay(n *yaml.Node, path string) TimeOfDay {
	s, ok := d.str(n, path)
	if !ok {
		return 0
	}
	t, err := ParseTimeOfDay(s)
	if err != nil {
		d.fail(n, path, "%v", err)
		return 0
	}
	return t
}

func (d *decoder) ivr(n *yaml.Node, path string, i *IVR) {
	d.mapping(n, path, fields{
		"default_language":     d.setString(&i.DefaultLanguage),
		"welcome_languages":    d.setStrings(&i.WelcomeLanguages),
		"menu_tries":           d.setInt(&i.MenuTries),
		"digit_timeout":        d.setDuration(&i.DigitTimeout),
		"max_wait":             d.setDuration(&i.MaxWait),
		"announce_interval":    d.setDuration(&i.AnnounceInterval),
		"voicemail_digit":      d.setString(&i.VoicemailDigit),
		"voicemail_max_length": d.setDuration(&i.VoicemailMaxLength),
		"recordings_dir":       d.setPath(&i.RecordingsDir),
		"music_on_hold":        d.setString(&i.MusicOnHold),
	}, nil)
}

func (d *decoder) queue(n *yaml.Node, path string, q *Queue) {
	d.mapping(n, path, fields{
		"ring_timeout":            d.setDuration(&q.RingTimeout),
		"wrap_up":                 d.setDuration(&q.WrapUp),
		"long_call_threshold":     d.setDuration(&q.LongCallThreshold),
		"long_call_wrap_up":       d.setDuration(&q.LongCallWrapUp),
		"flagged_wrap_up":         d.setDuration(&q.FlaggedWrapUp),
		"auto_pause_on_no_answer": d.setBool(&q.AutoPauseOnNoAnswer),
		"longest_wait_alert":      d.setDuration(&q.LongestWaitAlert),
	}, nil)
}

func (d *decoder) blacklist(n *yaml.Node, path string, b *Blacklist) {
	d.mapping(n, path, fields{
		"rejection":       func(v *yaml.Node, p string) { d.setString((*string)(&b.Rejection))(v, p) },
		"message":         func(v *yaml.Node, p string) { d.prompt(v, p, nil, &b.Message) },
		"flags_threshold": d.setInt(&b.FlagsThreshold),
		"window":          d.setDuration(&b.Window),
		"block_duration":  d.setDuration(&b.BlockDuration),
	}, nil)
}

func (d *decoder) operators(n *yaml.Node, path string, c *Config) {
	c.Operators = nil
	d.list(n, path, "a list of operators", func(_ int, item *yaml.Node, p string) {
		var o Operator
		d.mapping(item, p, fields{
			"id":        d.setString(&o.ID),
			"name":      d.setString(&o.Name),
			"endpoint":  d.setString(&o.Endpoint),
			"languages": d.setStrings(&o.Languages),
		}, sipSecret())
		c.Operators = append(c.Operators, o)
	})
}

func (d *decoder) featureCodes(n *yaml.Node, path string, fc FeatureCodes) {
	f := fields{}
	for _, feat := range Features() {
		f[string(feat)] = func(v *yaml.Node, p string) {
			if r := d.resolve(v); r != nil && r.Kind == yaml.ScalarNode && r.ShortTag() == "!!null" {
				d.fail(r, p, "has no value; quote feature codes (\"#13\"): an unquoted # starts a comment")
				return
			}
			if s, ok := d.str(v, p); ok {
				fc[feat] = s
			}
		}
	}
	d.mapping(n, path, f, nil)
}

func (d *decoder) trunk(n *yaml.Node, path string, t *Trunk) {
	d.mapping(n, path, fields{
		"dial":      d.setString(&t.Dial),
		"caller_id": d.setString(&t.CallerID),
	}, sipSecret())
}

// promptSets decodes prompts: language → prompt id → prompt. Whether the
// languages exist is checked later, against languages.
func (d *decoder) promptSets(n *yaml.Node, path string) {
	d.entries(n, path, func(k *yaml.Node, lang string, v *yaml.Node, p string) {
		d.lines[p] = k.Line
		set := map[PromptID]Prompt{}
		d.prompts[lang] = set
		f := fields{}
		for _, id := range slices.Concat(CallerPrompts(), OperatorPrompts()) {
			f[string(id)] = func(v *yaml.Node, p string) {
				var pr Prompt
				if d.prompt(v, p, id.placeholders(), &pr) {
					set[id] = pr
				}
			}
		}
		d.mapping(v, p, f, nil)
	})
}

// prompt decodes a prompt: a plain string (the text) or {text, sound},
// where sound is one media URI or a list of them. allowed are the
// placeholders the prompt may use.
func (d *decoder) prompt(n *yaml.Node, path string, allowed []string, dst *Prompt) bool {
	r := d.resolve(n)
	if r == nil {
		return false
	}
	var pr Prompt
	if r.Kind == yaml.ScalarNode && r.ShortTag() != "!!null" {
		s, ok := d.str(r, path)
		if !ok {
			return false
		}
		pr.Text = s
	} else {
		d.mapping(r, path, fields{
			"text": d.setString(&pr.Text),
			"sound": func(v *yaml.Node, p string) {
				if sv := d.resolve(v); sv != nil && sv.Kind == yaml.ScalarNode && sv.ShortTag() != "!!null" {
					if s, ok := d.str(sv, p); ok {
						pr.Sound = []string{s}
					}
					return
				}
				d.setStrings(&pr.Sound)(v, p)
			},
		}, nil)
		if d.refused(path) || d.hasRefusedChild(path) {
			return false
		}
	}
	if strings.TrimSpace(pr.Text) == "" && len(pr.Sound) == 0 {
		d.fail(r, path, "says nothing; give a text, a sound or both")
		return false
	}
	ok := d.checkPlaceholders(pr.Text, allowed, path)
	for i, uri := range pr.Sound {
		p := join(path, "sound")
		if d.set(index(p, i)) { // written as a list
			p = index(p, i)
		}
		if !soundURI.MatchString(uri) {
			d.failPath(p, "%q is not an ARI media URI (sound:…, recording:…, tone:…, digits:…, number:…)", truncate(uri))
			ok = false
			continue
		}
		ok = d.checkPlaceholders(uri, allowed, p) && ok
	}
	if ok {
		*dst = pr
	}
	return ok
}

var soundURI = regexp.MustCompile(`^(sound|recording|tone|digits|number|characters):\S+$`)

// checkPlaceholders refuses {names} in s that the prompt cannot fill.
func (d *decoder) checkPlaceholders(s string, allowed []string, path string) bool {
	for _, name := range placeholdersIn(s) {
		if slices.Contains(allowed, name) {
			continue
		}
		if len(allowed) == 0 {
			d.failPath(path, "{%s} cannot be filled in: this prompt takes no placeholders", truncate(name))
		} else {
			d.failPath(path, "{%s} cannot be filled in: this prompt knows {%s}", truncate(name), strings.Join(allowed, "}, {"))
		}
		return false
	}
	return true
}
