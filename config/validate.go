package config

import (
	"cmp"
	"fmt"
	"maps"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

var (
	// identifier is what service, node_id and operator ids look like: they
	// end up in Redis keys, CDRs, metrics labels and file names.
	identifier = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$`)
	// languageCode is a lowercase ISO 639 code, optionally with a subtag.
	languageCode = regexp.MustCompile(`^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$`)
	// endpoint is an Asterisk endpoint, technology/resource.
	endpoint = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]*/[^\s/{}]+$`)
	// dialable is what a softphone can dial.
	dialable = regexp.MustCompile(`^[0-9*#]{1,16}$`)
	// callerID is a presented number.
	callerID = regexp.MustCompile(`^\+?[0-9]{1,20}$`)
	// stasisApp is an ARI application name.
	stasisApp = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)
	// mohClass is an Asterisk music-on-hold class name.
	mohClass = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
)

// validate checks values against their range and against each other, and
// completes what depends on other keys (menu order, prompts). It reports
// at the line each key was set on; defaults are right by construction, so
// a problem on an unset key comes from another key it must agree with.
func (d *decoder) validate(c *Config) {
	d.checkTop(c)
	d.checkARI(&c.ARI)
	d.checkRedis(&c.Redis)
	d.checkCDR(&c.CDR)
	d.checkSecretRef(c.Privacy.HMACKey, "privacy.hmac_key", true)
	d.checkHTTP(&c.HTTP)
	d.checkLanguages(c)
	d.checkIVR(c)
	d.checkQueue(&c.Queue)
	d.checkBlacklist(&c.Blacklist)
	d.checkOperators(c)
	d.checkFeatureCodes(c.FeatureCodes)
	d.checkTrunk(&c.Trunk)
	d.checkNodes(c)
	d.completePrompts(c)
}

func (d *decoder) checkTop(c *Config) {
	if c.Service == "" {
		d.failPath("service", "missing: name the service stamped on every call record (e.g. \"1522\")")
	} else if !identifier.MatchString(c.Service) {
		d.failPath("service", "%q is not a valid id (letters, digits, _ . -, at most 32)", truncate(c.Service))
	}
	if !identifier.MatchString(c.NodeID) {
		d.failPath("node_id", "%q is not a valid id (letters, digits, _ . -, at most 32)", truncate(c.NodeID))
	}
	switch loc, err := time.LoadLocation(c.Timezone); {
	case c.Timezone == "" || c.Timezone == "Local":
		d.failPath("timezone", "name the zone explicitly, e.g. Europe/Rome")
	case err != nil:
		d.failPath("timezone", "unknown time zone %q", truncate(c.Timezone))
	default:
		c.Location = loc
	}
}

// checkSecretRef checks that at most one source is set, and one is set
// when the secret is required.
func (d *decoder) checkSecretRef(r SecretRef, path string, required bool) {
	switch {
	case r.Env != "" && r.File != "":
		d.failPath(path+"_file", "set only one of %s_env and %s_file", lastKey(path), lastKey(path))
	case required && !r.IsSet() && !d.literal[parentPath(path)]:
		d.failPath(path+"_env", "missing: set %s_env (an environment variable) or %s_file (a file) to say where the secret is", lastKey(path), lastKey(path))
	}
}

func lastKey(path string) string { return path[strings.LastIndexByte(path, '.')+1:] }

func (d *decoder) checkARI(a *ARI) {
	switch u, err := url.Parse(a.URL); {
	case a.URL == "":
		d.failPath("ari.url", "missing: the base URL of Asterisk's HTTP server, e.g. http://127.0.0.1:8088")
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		d.failPath("ari.url", "%q is not an http:// or https:// URL", truncate(a.URL))
	case u.User != nil:
		// The URL is not echoed: it holds credentials.
		d.failPath("ari.url", "must not contain credentials; set ari.username and ari.password_env or ari.password_file")
	case u.RawQuery != "" || u.Fragment != "":
		d.failPath("ari.url", "must not have a query or fragment")
	}
	if !stasisApp.MatchString(a.App) {
		d.failPath("ari.app", "%q is not a Stasis application name (letters, digits, _ . -)", truncate(a.App))
	}
	if a.Username == "" {
		d.failPath("ari.username", "missing: the ARI user from Asterisk's ari.conf")
	}
	d.checkSecretRef(a.Password, "ari.password", true)
}

func (d *decoder) checkRedis(r *Redis) {
	network, addr := r.Network()
	switch {
	case strings.Contains(r.Addr, "://"):
		d.failPath("redis.addr", "write host:port or a unix socket path, not a URL (a password goes in redis.password_env or redis.password_file)")
	case network == "unix" && !strings.HasPrefix(addr, "/"):
		d.failPath("redis.addr", "%q: a unix socket path must be absolute", truncate(r.Addr))
	case network == "tcp":
		if err := checkHostPort(r.Addr); err != nil {
			d.failPath("redis.addr", "%q %v", truncate(r.Addr), err)
		}
	}
	if r.DB < 0 {
		d.failPath("redis.db", "%d is negative", r.DB)
	}
	if strings.ContainsAny(r.KeyPrefix, "{} \t\n") {
		// Braces would become a cluster hash tag and break the slot the
		// queue scripts rely on.
		d.failPath("redis.key_prefix", "%q must not contain spaces or braces", truncate(r.KeyPrefix))
	}
	d.checkSecretRef(r.Password, "redis.password", false)
	d.checkRedisSentinel(r.Sentinel)
}

// checkHostPort checks host:port with a port from 1 to 65535.
func checkHostPort(s string) error {
	_, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Errorf("is not host:port")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("has no valid port (1 to 65535)")
	}
	return nil
}

func (d *decoder) checkCDR(c *CDR) {
	switch c.Driver {
	case DriverSQLite:
		if d.set("cdr.dsn") {
			d.failPath("cdr.dsn", "is for driver postgres; driver sqlite uses cdr.path")
		}
		if d.set("cdr.password_env") || d.set("cdr.password_file") {
			d.failPath("cdr.driver", "sqlite takes no password; remove cdr.password_env/cdr.password_file or use driver postgres")
		}
	case DriverPostgres:
		if d.set("cdr.path") {
			d.failPath("cdr.path", "is for driver sqlite; driver postgres uses cdr.dsn")
		}
		switch {
		case c.DSN == "":
			d.failPath("cdr.dsn", "missing: driver postgres needs a connection string, e.g. postgres://helpline@db/helpline")
		case dsnHasPassword(c.DSN):
			// The DSN is not echoed: it holds a password.
			d.failPath("cdr.dsn", "contains a password; remove it and set cdr.password_env or cdr.password_file")
		}
	default:
		d.failPath("cdr.driver", "%q is not a driver (sqlite or postgres)", truncate(c.Driver))
	}
	d.checkSecretRef(c.Password, "cdr.password", false)
}

// dsnHasPassword spots a password in a URL or key=value PostgreSQL DSN.
func dsnHasPassword(dsn string) bool {
	if u, err := url.Parse(dsn); err == nil && u.Scheme != "" {
		if _, ok := u.User.Password(); ok {
			return true
		}
		return u.Query().Has("password")
	}
	for _, field := range strings.Fields(dsn) {
		if k, _, ok := strings.Cut(field, "="); ok && strings.EqualFold(strings.TrimSpace(k), "password") {
			return true
		}
	}
	return strings.Contains(strings.ToLower(dsn), "password")
}

func (d *decoder) checkHTTP(h *HTTP) {
	host, _, err := net.SplitHostPort(h.Listen)
	if err == nil {
		err = checkHostPort(h.Listen)
	}
	switch {
	case err != nil:
		d.failPath("http.listen", "%q %v", truncate(h.Listen), err)
	case !isLoopbackHost(host) && !h.AllowPublic:
		d.failPath("http.listen", "%q is not a loopback address; set http.allow_public: true to serve health and metrics beyond this host", truncate(h.Listen))
	}
	d.checkSecretRef(h.AdminToken, "http.admin_token", false)
	if h.AllowPublic && !h.AdminToken.IsSet() {
		d.failPath("http.allow_public", "a public listener needs http.admin_token_env or http.admin_token_file")
	}
}

// checkLanguages checks codes, digits and hours, and puts the languages in
// menu order.
func (d *decoder) checkLanguages(c *Config) {
	if len(c.Languages) == 0 {
		d.failPath("languages", "missing: define at least one language (e.g. it: {name: Italiano, digit: 1, hours: always})")
		return
	}
	digits := map[string]string{}
	for i := range c.Languages {
		l := &c.Languages[i]
		p := join("languages", l.Code)
		if !languageCode.MatchString(l.Code) {
			d.failPath(p, "%q is not a language code (lowercase ISO 639, e.g. it, en, ar)", truncate(l.Code))
		}
		if l.Name == "" {
			l.Name = l.Code
		}
		switch other, dup := digits[l.Digit]; {
		case l.Digit == "":
			d.failPath(join(p, "digit"), "missing: the menu digit that chooses %s", l.Code)
		case dup:
			d.failPath(join(p, "digit"), "digit %s is already used by languages.%s", l.Digit, other)
		default:
			digits[l.Digit] = l.Code
		}
		if !d.set(join(p, "hours")) {
			d.failPath(join(p, "hours"), "missing: write always or a list of windows")
		}
	}
	slices.SortStableFunc(c.Languages, func(a, b Language) int {
		return cmp.Or(cmp.Compare(menuRank(a.Digit), menuRank(b.Digit)), cmp.Compare(a.Code, b.Code))
	})
}

func (d *decoder) checkIVR(c *Config) {
	i := &c.IVR
	if !d.set("ivr.welcome_languages") {
		i.WelcomeLanguages = []string{i.DefaultLanguage}
	}
	if len(c.Languages) > 0 { // else "languages: missing" says it all
		d.checkIVRLanguages(c)
	}
	if i.MenuTries < 1 {
		d.failPath("ivr.menu_tries", "must be at least 1")
	}
	positive := func(key string, v time.Duration) {
		if v <= 0 {
			d.failPath(join("ivr", key), "must be greater than 0")
		}
	}
	positive("digit_timeout", i.DigitTimeout)
	positive("max_wait", i.MaxWait)
	positive("voicemail_max_length", i.VoicemailMaxLength)
	if i.VoicemailDigit != "" && (!dialable.MatchString(i.VoicemailDigit) || len(i.VoicemailDigit) != 1) {
		d.failPath("ivr.voicemail_digit", "%q is not one key (0-9, * or #; \"\" turns voicemail off)", truncate(i.VoicemailDigit))
	}
	if i.RecordingsDir == "" {
		d.failPath("ivr.recordings_dir", "is empty; give a path")
	}
	if !mohClass.MatchString(i.MusicOnHold) {
		d.failPath("ivr.music_on_hold", "%q is not a music-on-hold class name", truncate(i.MusicOnHold))
	}
}

// checkIVRLanguages checks the IVR's references to languages.
func (d *decoder) checkIVRLanguages(c *Config) {
	i := &c.IVR
	if l, ok := c.Language(i.DefaultLanguage); !ok {
		d.failPath("ivr.default_language", "%q is not defined under languages", truncate(i.DefaultLanguage))
	} else if !l.Hours.Always && !d.refused(join("languages", l.Code)) {
		d.failPath("ivr.default_language", "%q must have hours: always, since callers who choose nothing go there", l.Code)
	}
	if !d.set("ivr.welcome_languages") {
		return // the default language, checked above
	}
	for k, code := range i.WelcomeLanguages {
		if _, ok := c.Language(code); !ok {
			d.failPath(index("ivr.welcome_languages", k), "%q is not defined under languages", truncate(code))
		}
	}
}

func (d *decoder) checkQueue(q *Queue) {
	if q.RingTimeout <= 0 {
		d.failPath("queue.ring_timeout", "must be greater than 0")
	}
	if q.LongCallThreshold <= 0 && q.LongCallWrapUp > q.WrapUp && d.set("queue.long_call_wrap_up") {
		d.failPath("queue.long_call_threshold", "must be greater than 0 for long_call_wrap_up to apply")
	}
	if q.LongestWaitAlert <= 0 {
		d.failPath("queue.longest_wait_alert", "must be greater than 0")
	}
}

func (d *decoder) checkBlacklist(b *Blacklist) {
	switch b.Rejection {
	case RejectBusy, RejectCongestion, RejectMessage:
	default:
		d.failPath("blacklist.rejection", "%q is not busy, congestion or message", truncate(string(b.Rejection)))
	}
	if b.FlagsThreshold < 1 {
		d.failPath("blacklist.flags_threshold", "must be at least 1")
	}
	if b.Window <= 0 {
		d.failPath("blacklist.window", "must be greater than 0")
	}
	if b.BlockDuration <= 0 {
		d.failPath("blacklist.block_duration", "must be greater than 0")
	}
}

// checkOperators checks ids and endpoints are unique and every language is
// both spoken by someone and defined.
func (d *decoder) checkOperators(c *Config) {
	if len(c.Operators) == 0 {
		if !d.refused("operators") {
			d.failPath("operators", "missing: list at least one operator ({id, name, endpoint, languages})")
		}
		return // and not also "nobody answers in it" for every language
	}
	ids := map[string]int{}
	endpoints := map[string]int{}
	spoken := map[string]bool{}
	for k := range c.Operators {
		o := &c.Operators[k]
		p := index("operators", k)
		switch first, dup := ids[o.ID]; {
		case o.ID == "":
			d.failPath(join(p, "id"), "missing")
		case !identifier.MatchString(o.ID):
			d.failPath(join(p, "id"), "%q is not a valid id (letters, digits, _ . -, at most 32)", truncate(o.ID))
		case dup:
			d.failPath(join(p, "id"), "%q is already the id of operators[%d]", o.ID, first)
		default:
			ids[o.ID] = k
		}
		if o.Name == "" {
			o.Name = o.ID
		}
		switch first, dup := endpoints[endpointKey(o.Endpoint)]; {
		case o.Endpoint == "":
			d.failPath(join(p, "endpoint"), "missing: the softphone to ring, e.g. PJSIP/op1001")
		case !endpoint.MatchString(o.Endpoint):
			d.failPath(join(p, "endpoint"), "%q is not an Asterisk endpoint (technology/resource, e.g. PJSIP/op1001)", truncate(o.Endpoint))
		case dup:
			d.failPath(join(p, "endpoint"), "%q is already the endpoint of operators[%d]", o.Endpoint, first)
		default:
			endpoints[endpointKey(o.Endpoint)] = k
		}
		if len(o.Languages) == 0 {
			d.failPath(join(p, "languages"), "missing: list the languages the operator answers in")
		}
		for j, code := range o.Languages {
			lp := index(join(p, "languages"), j)
			switch {
			case slices.Index(o.Languages, code) < j:
				d.failPath(lp, "%q is listed twice", truncate(code))
			case !hasLanguage(c, code):
				d.failPath(lp, "%q is not defined under languages", truncate(code))
			}
			spoken[code] = true
		}
	}
	if d.refused("operators") || d.hasRefusedChild("operators") {
		return // an operator we could not read may be the missing speaker
	}
	for _, l := range c.Languages {
		if !spoken[l.Code] {
			d.failPath(join("languages", l.Code), "no operator answers in %q, so its queue would never be answered; add it to an operator's languages", l.Code)
		}
	}
}

func hasLanguage(c *Config, code string) bool {
	_, ok := c.Language(code)
	return ok
}

// checkFeatureCodes checks codes are dialable and none is a prefix of
// another (which would make "*20123" ambiguous). A clash is reported once,
// on the code the file sets (a default clashing with a set code is the set
// code's fault).
func (d *decoder) checkFeatureCodes(fc FeatureCodes) {
	var ok []Feature // features with a valid code, in file order
	blamed := map[Feature]bool{}
	for _, f := range Features() {
		p := join("feature_codes", string(f))
		code := fc[f]
		if d.refused(p) {
			continue
		}
		if !dialable.MatchString(code) {
			d.failPath(p, "%q is not dialable (digits, * and #, at most 16)", truncate(code))
			continue
		}
		for _, g := range ok {
			other := fc[g]
			if !strings.HasPrefix(code, other) && !strings.HasPrefix(other, code) {
				continue
			}
			at, with, withCode := f, g, other
			if !d.set(p) && d.set(join("feature_codes", string(g))) {
				at, with, withCode = g, f, code
			}
			if blamed[at] {
				continue
			}
			blamed[at] = true
			if code == other {
				d.failPath(join("feature_codes", string(at)), "%q is already the code of feature_codes.%s", code, with)
			} else {
				d.failPath(join("feature_codes", string(at)), "%q starts like feature_codes.%s %q, so a dialled string could mean either",
					fc[at], with, withCode)
			}
		}
		ok = append(ok, f)
	}
}

func (d *decoder) checkTrunk(t *Trunk) {
	if strings.Count(t.Dial, "{number}") != 1 || len(placeholdersIn(t.Dial)) != 1 ||
		!endpoint.MatchString(strings.Replace(t.Dial, "{number}", "0", 1)) {
		d.failPath("trunk.dial", "%q is not a dial string with one {number}, e.g. PJSIP/{number}@trunk", truncate(t.Dial))
	}
	if t.CallerID != "" && !callerID.MatchString(t.CallerID) {
		d.failPath("trunk.caller_id", "%q is not a phone number", truncate(t.CallerID))
	}
}

// completePrompts fills c.Prompts: the file's prompts over the built-in
// ones, and says which prompts a language still lacks.
func (d *decoder) completePrompts(c *Config) {
	for _, lang := range slices.Sorted(maps.Keys(d.prompts)) {
		if !hasLanguage(c, lang) {
			d.failPath(join("prompts", lang), "%q is not defined under languages", truncate(lang))
		}
	}
	texts := builtinTexts()
	c.Prompts = map[string]map[PromptID]Prompt{}
	for _, l := range c.Languages {
		set := map[PromptID]Prompt{}
		var missing []string
		needed := CallerPrompts()
		if l.Code == c.IVR.DefaultLanguage {
			needed = append(needed, OperatorPrompts()...)
		}
		for _, id := range slices.Concat(CallerPrompts(), OperatorPrompts()) {
			if p, ok := d.prompts[l.Code][id]; ok {
				set[id] = p
			} else if p, ok := builtinPrompt(texts, l.Code, id); ok {
				set[id] = p
			} else if slices.Contains(needed, id) && !d.refused(join(join("prompts", l.Code), string(id))) {
				missing = append(missing, string(id))
			}
		}
		if len(missing) > 0 {
			p := join("prompts", l.Code)
			if !d.set(p) {
				p = join("languages", l.Code)
			}
			d.failPath(p, "there are no built-in prompts for %q; write these under prompts.%s: %s", l.Code, l.Code, strings.Join(missing, ", "))
		}
		c.Prompts[l.Code] = set
	}
}
