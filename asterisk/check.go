package asterisk

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/helpline-it/helpline/config"
)

var (
	// endpointID is what a pjsip.conf section name and a PJSIP dial
	// string (PJSIP/<id>) can both carry: no ] ; ( which end a section
	// header or start a comment, no / @ & , which split dial strings, no
	// spaces, which Asterisk trims.
	endpointID = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$`)
	// trunkDial is the only trunk dial string we can generate a trunk for.
	trunkDial = regexp.MustCompile(`^(?i:pjsip)/\{number\}@(.+)$`)
	// did is a number as the provider sends it in the request URI.
	did = regexp.MustCompile(`^[0-9]{1,20}$`)
	// sipUser is a SIP user part we write into URIs and auth sections.
	sipUser = regexp.MustCompile(`^[A-Za-z0-9_.+-]{1,64}$`)
	// hostName is a DNS name.
	hostName = regexp.MustCompile(`^(?i:[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.(?i:[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?))*\.?$`)
	// httpPrefix is http.conf's prefix: one path segment.
	httpPrefix = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)
)

// Names the generated files give to their own objects. An operator
// endpoint with one of these names would silently merge with it.
const (
	operatorTemplate     = "helpline-operator"
	operatorAuthTemplate = "helpline-operator-auth"
	operatorAORTemplate  = "helpline-operator-aor"
	trunkTemplate        = "helpline-trunk"
	contextInbound       = "helpline-inbound"
	contextOperators     = "helpline-operators"
)

// operatorPlan is one operator's softphone, as pjsip.conf declares it.
type operatorPlan struct {
	op       config.Operator
	endpoint string // the pjsip.conf id: the resource of PJSIP/<id>
	password config.Secret
}

// plan is everything Generate writes, checked and derived.
type plan struct {
	cfg  *config.Config
	site *Site
	sec  Secrets

	httpBind   string
	httpPort   int
	httpPrefix string
	transport  string
	trunk      string // the trunk endpoint id, from trunk.dial
	match      []string
	operators  []operatorPlan
	internode  []internodePlan // internode.go
	errs       config.Errors
}

func (p *plan) failSite(path, format string, args ...any) {
	p.errs = append(p.errs, &config.Error{File: siteName(p.site), Line: p.site.lines[path], Path: path, Msg: fmt.Sprintf(format, args...)})
}

func (p *plan) failConfig(path, format string, args ...any) {
	p.errs = append(p.errs, &config.Error{File: p.cfg.File, Path: path, Msg: fmt.Sprintf(format, args...)})
}

func (p *plan) failSecret(what, format string, args ...any) {
	p.errs = append(p.errs, &config.Error{File: "secrets", Path: what, Msg: fmt.Sprintf(format, args...)})
}

func siteName(s *Site) string {
	if s.File == "" {
		return "site"
	}
	return s.File
}

// check validates everything against what Asterisk accepts and fills the
// derived values. Every problem is collected.
func (p *plan) check() {
	p.checkHTTP()
	p.checkSIP()
	p.checkCodecs("codecs", p.site.Codecs)
	p.checkTrunk()
	p.checkOperators()
	p.checkInternode()
	p.checkSecrets()
	if !strings.HasPrefix(p.site.MusicOnHoldDir, "/") || strings.ContainsAny(p.site.MusicOnHoldDir, ";\n\r") {
		p.failSite("music_on_hold_dir", "%q must be an absolute directory path", truncate(p.site.MusicOnHoldDir))
	}
	if !endpointID.MatchString(p.cfg.ARI.Username) {
		p.failConfig("ari.username", "%q cannot be an ari.conf user (letters, digits, _ . + -)", truncate(p.cfg.ARI.Username))
	}
}

func (p *plan) checkHTTP() {
	u, err := url.Parse(p.cfg.ARI.URL)
	if err != nil { // config.Parse has refused it already; be safe anyway
		p.failConfig("ari.url", "is not a URL")
		return
	}
	if u.Scheme == "https" {
		p.failConfig("ari.url", "is https; the generated http.conf serves plain HTTP on a loopback or private address: use http://, or put TLS in front of Asterisk yourself and write http.conf by hand")
	}
	p.httpPort = 80
	if port := u.Port(); port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			p.failConfig("ari.url", "has no valid port")
		}
		p.httpPort = n
	}
	if prefix := strings.Trim(u.Path, "/"); prefix != "" {
		if !httpPrefix.MatchString(prefix) {
			p.failConfig("ari.url", "path %q cannot be an http.conf prefix (one segment of letters, digits, _ -)", truncate(u.Path))
		}
		p.httpPrefix = prefix
	}
	p.httpBind = p.site.HTTP.Bind
	ip := net.ParseIP(p.httpBind)
	switch {
	case ip == nil:
		p.failSite("http.bind", "%q is not an IP address", truncate(p.httpBind))
	case ip.IsLoopback() && !isLoopbackHost(u.Hostname()):
		p.failSite("http.bind", "Asterisk's HTTP server would listen on %s, but ari.url in %s reaches it at %q: set http.bind to the address helpline connects to (e.g. 0.0.0.0 inside a container network)",
			p.httpBind, p.cfg.File, u.Hostname())
	}
}

func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (p *plan) checkSIP() {
	s := p.site.SIP
	host, port, err := net.SplitHostPort(s.Bind)
	if err == nil {
		if n, perr := strconv.Atoi(port); perr != nil || n < 1 || n > 65535 || net.ParseIP(host) == nil {
			err = fmt.Errorf("bad")
		}
	}
	if err != nil {
		p.failSite("sip.bind", "%q is not IP:port (e.g. 0.0.0.0:5060)", truncate(s.Bind))
	}
	switch s.Protocol {
	case "udp", "tcp":
		p.transport = "transport-" + s.Protocol
	default:
		p.failSite("sip.protocol", "%q is not udp or tcp", truncate(s.Protocol))
		p.transport = "transport-udp"
	}
	if s.ExternalAddress != "" && net.ParseIP(s.ExternalAddress) == nil && !hostName.MatchString(s.ExternalAddress) {
		p.failSite("sip.external_address", "%q is not an IP address or host name", truncate(s.ExternalAddress))
	}
	for i, n := range s.LocalNet {
		if _, _, err := net.ParseCIDR(n); err != nil {
			p.failSite(fmt.Sprintf("sip.local_net[%d]", i), "%q is not a network in CIDR form (e.g. 192.168.0.0/16)", truncate(n))
		}
	}
	if len(s.LocalNet) > 0 && s.ExternalAddress == "" {
		p.failSite("sip.local_net", "only means something with sip.external_address (the address outside the NAT)")
	}
	switch {
	case s.RTPStart < 1024 || s.RTPStart > 65535:
		p.failSite("sip.rtp_start", "%d is not a port from 1024 to 65535", s.RTPStart)
	case s.RTPEnd < 1024 || s.RTPEnd > 65535:
		p.failSite("sip.rtp_end", "%d is not a port from 1024 to 65535", s.RTPEnd)
	case s.RTPEnd-s.RTPStart < 4:
		p.failSite("sip.rtp_end", "the range %d-%d leaves no room for one call (four ports each)", s.RTPStart, s.RTPEnd)
	}
}

func (p *plan) checkCodecs(path string, codecs []string) {
	if len(codecs) == 0 {
		p.failSite(path, "list at least one codec (e.g. [ulaw, alaw])")
	}
	for i, c := range codecs {
		ip := fmt.Sprintf("%s[%d]", path, i)
		if problem := codecProblem(c); problem != "" {
			p.failSite(ip, "%q: %s", truncate(c), problem)
		} else if slices.Index(codecs, c) < i {
			p.failSite(ip, "%q is listed twice", c)
		}
	}
}

func validHost(h string) bool {
	return net.ParseIP(h) != nil || hostName.MatchString(h)
}

func (p *plan) checkTrunk() {
	t := p.site.Trunk
	m := trunkDial.FindStringSubmatch(p.cfg.Trunk.Dial)
	switch {
	case m == nil:
		p.failConfig("trunk.dial", "%q: asterisk-config generates a PJSIP trunk, so write it as PJSIP/{number}@<endpoint>, e.g. PJSIP/{number}@trunk", truncate(p.cfg.Trunk.Dial))
	case !endpointID.MatchString(m[1]):
		p.failConfig("trunk.dial", "%q cannot be a pjsip.conf endpoint id (letters, digits, _ . + -, at most 64)", truncate(m[1]))
	default:
		p.trunk = m[1]
	}
	switch {
	case t.Host == "":
		p.failSite("trunk.host", "missing: the provider's SIP server (name or IP address, no port)")
	case !validHost(t.Host):
		p.failSite("trunk.host", "%q is not a host name or IP address (write the port in trunk.port)", truncate(t.Host))
	}
	if t.Port < 1 || t.Port > 65535 {
		p.failSite("trunk.port", "%d is not a port from 1 to 65535", t.Port)
	}
	if t.Username != "" && !sipUser.MatchString(t.Username) {
		p.failSite("trunk.username", "%q is not a SIP user name (letters, digits, _ . + -)", truncate(t.Username))
	}
	switch {
	case t.Password.Env != "" && t.Password.File != "":
		p.failSite("trunk.password_file", "set only one of password_env and password_file")
	case t.Username != "" && !t.Password.IsSet():
		p.failSite("trunk.username", "is set without trunk.password_env or trunk.password_file; providers that authenticate by IP need neither")
	case t.Username == "" && t.Password.IsSet():
		p.failSite("trunk.username", "missing: a trunk password needs the user name it belongs to")
	}
	if t.Register && (t.Username == "" || !t.Password.IsSet()) {
		p.failSite("trunk.register", "registering needs trunk.username and trunk.password_env or trunk.password_file")
	}
	if t.FromUser != "" && !sipUser.MatchString(t.FromUser) {
		p.failSite("trunk.from_user", "%q is not a SIP user name (letters, digits, _ . + -)", truncate(t.FromUser))
	}
	if t.FromDomain != "" && !validHost(t.FromDomain) {
		p.failSite("trunk.from_domain", "%q is not a host name or IP address", truncate(t.FromDomain))
	}
	p.match = t.Match
	if len(p.match) == 0 && t.Host != "" {
		p.match = []string{t.Host}
	}
	for i, m := range t.Match {
		if _, _, err := net.ParseCIDR(m); err != nil && !validHost(m) {
			p.failSite(fmt.Sprintf("trunk.match[%d]", i), "%q is not an IP address, network (CIDR) or host name", truncate(m))
		}
	}
	p.checkCodecs("trunk.codecs", t.Codecs)
	if len(t.DIDs) == 0 {
		p.failSite("trunk.dids", "missing: list the helpline's numbers as the provider sends them (digits only), e.g. [\"800123456\"]")
	}
	for i, n := range t.DIDs {
		path := fmt.Sprintf("trunk.dids[%d]", i)
		switch {
		case !did.MatchString(n):
			p.failSite(path, "%q is not a number: digits only, as the provider sends it in the request URI (no +, spaces or dashes)", truncate(n))
		case slices.Index(t.DIDs, n) < i:
			p.failSite(path, "%q is listed twice", n)
		}
	}
}

// reserved lists the pjsip.conf ids the generated file uses for itself.
func (p *plan) reserved() map[string]string {
	r := map[string]string{
		operatorTemplate:     "the operators' endpoint template",
		operatorAuthTemplate: "the operators' auth template",
		operatorAORTemplate:  "the operators' AOR template",
		trunkTemplate:        "the trunk's endpoint template",
		"global":             "the global section",
		"transport-udp":      "the SIP transport",
		"transport-tcp":      "the SIP transport",
	}
	if p.trunk != "" {
		r[p.trunk] = "the trunk (trunk.dial)"
		r[p.trunk+"-auth"] = "the trunk's credentials"
		r[p.trunk+"-reg"] = "the trunk's registration"
		r[p.trunk+"-identify"] = "the trunk's address match"
	}
	return r
}

func (p *plan) checkOperators() {
	reserved := p.reserved()
	for i, o := range p.cfg.Operators {
		path := fmt.Sprintf("operators[%d].endpoint", i)
		tech, id, _ := strings.Cut(o.Endpoint, "/")
		switch what, clash := reserved[id]; {
		case !strings.EqualFold(tech, "PJSIP"):
			p.failConfig(path, "%q: asterisk-config generates PJSIP softphones; write PJSIP/<id>", truncate(o.Endpoint))
		case !endpointID.MatchString(id):
			p.failConfig(path, "%q: %s", truncate(o.Endpoint), endpointProblem(id))
		case clash:
			p.failConfig(path, "%q has the id of %s in pjsip.conf; give the softphone another id", truncate(o.Endpoint), what)
		default:
			p.operators = append(p.operators, operatorPlan{op: o, endpoint: id})
		}
	}
}

// endpointProblem names what makes id unusable as an endpoint id.
func endpointProblem(id string) string {
	if len(id) > 64 {
		return "an endpoint id has at most 64 characters"
	}
	for _, r := range id {
		if !(r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r))) && !strings.ContainsRune("_.+-", r) {
			return fmt.Sprintf("%q cannot appear in a pjsip.conf endpoint id or a dial string (use letters, digits, _ . + -)", r)
		}
	}
	return "an endpoint id starts with a letter or digit"
}

// checkSecrets checks the values Asterisk will read: no line breaks (they
// would end the line and start a new key), no spaces at either end
// (Asterisk trims them, so the softphone's password would not match),
// long enough for operators. Values are never echoed.
func (p *plan) checkSecrets() {
	bad := func(v string) string {
		switch {
		case strings.ContainsFunc(v, unicode.IsControl):
			return "contains a line break or another control character"
		case strings.TrimSpace(v) != v:
			return "starts or ends with a space, which Asterisk would drop"
		}
		return ""
	}
	if v := p.sec.ARIPassword.Reveal(); v == "" {
		p.failSecret("ari.password", "missing")
	} else if problem := bad(v); problem != "" {
		p.failSecret("ari.password", "%s", problem)
	}
	if p.site.Trunk.Password.IsSet() {
		if v := p.sec.TrunkPassword.Reveal(); v == "" {
			p.failSecret("trunk.password", "missing")
		} else if problem := bad(v); problem != "" {
			p.failSecret("trunk.password", "%s", problem)
		}
	}
	for i := range p.operators {
		o := &p.operators[i]
		what := "SIP password of operator " + o.op.ID
		o.password = p.sec.Operators[o.op.ID]
		v := o.password.Reveal()
		switch {
		case v == "":
			p.failSecret(what, "missing")
		case bad(v) != "":
			p.failSecret(what, "%s", bad(v))
		case !p.sec.Placeholder && len(v) < MinSIPPasswordLength:
			p.failSecret(what, "is %d characters; use at least %d (e.g. openssl rand -base64 18)", len(v), MinSIPPasswordLength)
		}
	}
}
