package asterisk

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"unicode"

	"github.com/helpline-it/helpline/config"
)

// File is one generated configuration file.
type File struct {
	// Name is the file name inside Asterisk's configuration directory.
	Name string
	// Data is its content.
	Data []byte
	// Secret is set when Data holds a secret (or its placeholder): such a
	// file is written with mode 0600.
	Secret bool
}

// Generate returns Asterisk's configuration for cfg, completed by site,
// with the secrets sec: ari.conf, extensions.conf, http.conf, logger.conf,
// modules.conf, musiconhold.conf, pjsip.conf and rtp.conf, in that order.
// The output depends only on its inputs (no dates, sorted where the input
// has no order), so it can be compared with golden files and diffed
// between runs. Values Asterisk would reject or misread are refused first:
// the error is config.Errors with every problem, each naming the file and
// key to fix, and never a secret's value.
func Generate(cfg *config.Config, site *Site, sec Secrets) ([]File, error) {
	p := &plan{cfg: cfg, site: site, sec: sec}
	p.check()
	if len(p.errs) > 0 {
		return nil, p.errs
	}
	return []File{
		{Name: "ari.conf", Data: p.ariConf(), Secret: true},
		{Name: "extensions.conf", Data: p.extensionsConf()},
		{Name: "http.conf", Data: p.httpConf()},
		{Name: "logger.conf", Data: p.loggerConf()},
		{Name: "modules.conf", Data: p.modulesConf()},
		{Name: "musiconhold.conf", Data: p.musicOnHoldConf()},
		{Name: "pjsip.conf", Data: p.pjsipConf(), Secret: true},
		{Name: "rtp.conf", Data: p.rtpConf()},
	}, nil
}

// conf builds one file in Asterisk's configuration syntax.
type conf struct{ b strings.Builder }

// header opens the file with what it is and where it comes from.
func (p *plan) header(name, what string) *conf {
	c := &conf{}
	c.comment(fmt.Sprintf("%s: %s", name, what))
	c.comment(fmt.Sprintf("Written by `helpline asterisk-config` from %s and %s (service %s).",
		filepath.Base(p.cfg.File), filepath.Base(siteName(p.site)), p.cfg.Service))
	c.comment("Do not edit: change those files and generate again.")
	return c
}

func (c *conf) comment(lines ...string) {
	for _, l := range lines {
		if l == "" {
			c.b.WriteString(";\n")
			continue
		}
		c.b.WriteString("; " + l + "\n")
	}
}

func (c *conf) blank() { c.b.WriteString("\n") }

// section opens [name], [name](!) for a template, or [name](template).
func (c *conf) section(name string, template string) {
	c.b.WriteString("[" + name + "]")
	if template != "" {
		c.b.WriteString("(" + template + ")")
	}
	c.b.WriteString("\n")
}

// set writes key=value. A ; in the value would start a comment, so it is
// escaped as \; (Asterisk's parser removes the backslash); line breaks
// were refused by check.
func (c *conf) set(key, value string) {
	c.b.WriteString(key + "=" + strings.ReplaceAll(value, ";", `\;`) + "\n")
}

// line writes a raw line (dialplan, module loads).
func (c *conf) line(s string) { c.b.WriteString(s + "\n") }

func (c *conf) bytes() []byte { return []byte(c.b.String()) }

func (p *plan) httpConf() []byte {
	c := p.header("http.conf", "Asterisk's HTTP server, which carries ARI for helpline.")
	c.comment("It listens on " + p.httpBind + " only: ARI controls every call and must never face the Internet.")
	c.blank()
	c.section("general", "")
	c.set("enabled", "yes")
	c.set("bindaddr", p.httpBind)
	c.set("bindport", fmt.Sprint(p.httpPort))
	if p.httpPrefix != "" {
		c.set("prefix", p.httpPrefix)
	}
	c.set("servername", "helpline")
	c.set("tlsenable", "no")
	return c.bytes()
}

func (p *plan) ariConf() []byte {
	c := p.header("ari.conf", "the ARI user helpline connects as.")
	if p.sec.Placeholder {
		c.comment("The password is the placeholder ${ARI_PASSWORD}: fill it in (e.g. envsubst) before Asterisk reads this file.")
	} else {
		c.comment("The password was read from ari.password_env/ari.password_file, the source helpline serve reads.")
	}
	c.blank()
	c.section("general", "")
	c.set("enabled", "yes")
	c.set("pretty", "no")
	c.blank()
	c.section(p.cfg.ARI.Username, "")
	c.set("type", "user")
	c.set("read_only", "no")
	c.set("password_format", "plain")
	c.set("password", p.sec.ARIPassword.Reveal())
	return c.bytes()
}

func (p *plan) extensionsConf() []byte {
	app := p.cfg.ARI.App
	c := p.header("extensions.conf", "the dialplan.")
	c.comment(
		"",
		"The toll-fraud rule: no context here can reach the network. There is no",
		"Dial, Goto or Gosub anywhere; calls to the anti-violence network are placed",
		"by helpline through ARI. The trunk's context holds only the helpline's",
		"numbers and the operators' context only their feature codes, and each",
		"of them enters the Stasis application "+app+". Any other number is refused.",
	)
	if len(p.internode) > 0 {
		c.comment("One exception, at the end: the inter-node context dials this node's",
			"softphones, and only them, for callers waiting on the other nodes.")
	}
	c.blank()
	c.section("general", "")
	c.set("static", "yes")
	c.set("writeprotect", "yes")
	c.set("autofallthrough", "yes")
	c.set("clearglobalvars", "no")
	c.blank()
	c.section("globals", "")
	c.blank()
	c.comment("Calls arriving on the trunk (" + p.trunk + "): the helpline's numbers, each into the app.")
	c.section(contextInbound, "")
	for _, n := range p.site.Trunk.DIDs {
		c.line(fmt.Sprintf("exten => %s,1,Stasis(%s,inbound)", n, app))
		c.line(" same => n,Hangup()")
	}
	c.blank()
	c.comment(
		"Operators' softphones: only the feature codes, each into the app. The third",
		"argument is the operator id: pjsip.conf pins each softphone's caller ID to",
		"it, so a softphone cannot claim to be another operator.",
	)
	c.section(contextOperators, "")
	stasis := fmt.Sprintf("Stasis(%s,operator,${CALLERID(num)})", app)
	for _, f := range config.Features() {
		code := p.cfg.FeatureCodes[f]
		if code == "" {
			continue
		}
		if f.TakesArgument() {
			c.comment(fmt.Sprintf("%s: %s followed by a directory code or a number (the code alone is refused by helpline)", f, code))
			c.line(fmt.Sprintf("exten => %s,1,%s", code, stasis))
			c.line(" same => n,Hangup()")
			c.line(fmt.Sprintf("exten => _%s.,1,%s", code, stasis))
			c.line(" same => n,Hangup()")
			continue
		}
		c.comment(string(f))
		c.line(fmt.Sprintf("exten => %s,1,%s", code, stasis))
		c.line(" same => n,Hangup()")
	}
	p.internodeDialplan(c)
	return c.bytes()
}

// moduleGroup is a commented block of modules.conf.
type moduleGroup struct {
	why     string
	modules []string
}

// modules lists what Asterisk loads, and why. Everything else stays
// unloaded (autoload=no): the manager interface, other channel drivers,
// CDR and CEL backends that would write caller numbers to disk, the
// anonymous SIP endpoint identifier.
func (p *plan) modules() []moduleGroup {
	sip := []string{
		"res_sorcery_config", "res_sorcery_memory", "res_sorcery_astdb", "res_pjproject",
		"res_pjsip", "res_pjsip_session", "res_pjsip_pubsub", "chan_pjsip",
		"res_pjsip_authenticator_digest", "res_pjsip_outbound_authenticator_digest",
		"res_pjsip_endpoint_identifier_ip", "res_pjsip_endpoint_identifier_user",
		"res_pjsip_registrar", "res_pjsip_caller_id", "res_pjsip_sdp_rtp", "res_pjsip_nat",
		"res_pjsip_rfc3326", "res_pjsip_logger",
	}
	if p.site.Trunk.Register {
		sip = append(sip, "res_pjsip_outbound_registration")
	}
	codecs := []string{"codec_ulaw", "codec_alaw", "codec_a_mu", "codec_resample", "codec_gsm"}
	var external []string
	known := audioCodecs()
	for _, name := range slices.Concat(p.site.Codecs, p.site.Trunk.Codecs) {
		k := known[name]
		for _, m := range []string{k.module, k.attr} {
			if m == "" || slices.Contains(codecs, m) || slices.Contains(external, m) {
				continue
			}
			if k.external {
				external = append(external, m)
			} else {
				codecs = append(codecs, m)
			}
		}
	}
	groups := []moduleGroup{
		{"Dialplan: the Stasis application, caller ID and channel functions.",
			[]string{"pbx_config", "app_stasis", "func_callerid", "func_channel"}},
		{"ARI on Asterisk's HTTP server.",
			[]string{"res_http_websocket", "res_stasis", "res_stasis_answer", "res_stasis_device_state",
				"res_stasis_playback", "res_stasis_recording", "res_ari", "res_ari_model",
				"res_ari_applications", "res_ari_asterisk", "res_ari_bridges", "res_ari_channels",
				"res_ari_device_states", "res_ari_endpoints", "res_ari_events", "res_ari_playbacks",
				"res_ari_recordings", "res_ari_sounds"}},
		{"SIP: the trunk and the operators' softphones (no anonymous endpoint identifier).", sip},
		{"Media: RTP, timing, music on hold, bridges and the announcer channel of bridge playback.",
			[]string{"res_rtp_asterisk", "res_timing_timerfd", "res_crypto", "res_musiconhold",
				"chan_bridge_media", "bridge_simple", "bridge_native_rtp", "bridge_softmix", "bridge_holding"}},
		{"Sound file formats: prompts and recordings (wav), Asterisk's own sounds (gsm, ulaw, alaw, sln).",
			[]string{"format_wav", "format_gsm", "format_pcm", "format_sln"}},
		{"Codecs and their transcoders.", codecs},
	}
	if len(p.internode) > 0 {
		groups = append(groups, moduleGroup{"Inter-node trunks: the internode context dials this node's softphones.", []string{"app_dial"}})
	}
	if len(external) > 0 {
		groups = append(groups, moduleGroup{
			"Not part of Asterisk's source: install these modules yourself, or remove the codecs that need them.\n" +
				"Without them Asterisk cannot transcode, and a call between such a softphone and the trunk has no audio path.",
			external})
	}
	return groups
}

func (p *plan) modulesConf() []byte {
	c := p.header("modules.conf", "only what helpline needs is loaded.")
	c.blank()
	c.section("modules", "")
	c.set("autoload", "no")
	for _, g := range p.modules() {
		c.blank()
		c.comment(strings.Split(g.why, "\n")...)
		for _, m := range g.modules {
			c.line("load = " + m + ".so")
		}
	}
	return c.bytes()
}

func (p *plan) musicOnHoldConf() []byte {
	c := p.header("musiconhold.conf", "the music callers hear while they wait.")
	c.comment("Put the files (wav, 8 kHz mono) in "+p.site.MusicOnHoldDir+";",
		"`helpline prompts build --moh DIR` writes a placeholder until you have licensed music.")
	c.blank()
	c.section("general", "")
	c.blank()
	c.section(p.cfg.IVR.MusicOnHold, "")
	c.set("mode", "files")
	c.set("directory", p.site.MusicOnHoldDir)
	c.set("sort", "alpha")
	return c.bytes()
}

func (p *plan) loggerConf() []byte {
	c := p.header("logger.conf", "Asterisk's own logs.")
	c.comment("Only notices, warnings and errors, on the console (the journal or docker logs):",
		"verbose and debug output and log files would keep SIP headers, and with them callers' numbers.")
	c.blank()
	c.section("general", "")
	c.set("queue_log", "no")
	c.blank()
	c.section("logfiles", "")
	c.line("console => notice,warning,error")
	return c.bytes()
}

func (p *plan) rtpConf() []byte {
	s := p.site.SIP
	c := p.header("rtp.conf", "the UDP ports of call audio.")
	c.comment(fmt.Sprintf("Open (and, in a container, publish) UDP %d-%d: four ports per call in progress.", s.RTPStart, s.RTPEnd))
	c.blank()
	c.section("general", "")
	c.set("rtpstart", fmt.Sprint(s.RTPStart))
	c.set("rtpend", fmt.Sprint(s.RTPEnd))
	c.set("strictrtp", "yes")
	c.set("icesupport", "no")
	return c.bytes()
}

// sipURI is sip:host:port, with the transport when it is not UDP.
func (p *plan) sipURI(user string) string {
	t := p.site.Trunk
	u := "sip:"
	if user != "" {
		u += user + "@"
	}
	u += fmt.Sprintf("%s:%d", t.Host, t.Port)
	if p.site.SIP.Protocol == "tcp" {
		u += ";transport=tcp"
	}
	return u
}

func (p *plan) pjsipConf() []byte {
	s, t, lang := p.site.SIP, p.site.Trunk, p.cfg.IVR.DefaultLanguage
	c := p.header("pjsip.conf", "SIP: the transport, the operators' softphones and the provider's trunk.")
	c.comment(
		"",
		"There is no anonymous endpoint: a request that comes neither from the trunk's",
		"addresses nor from an operator with her password is refused.",
	)
	if p.sec.Placeholder {
		c.comment("Passwords are ${...} placeholders: fill them in before Asterisk reads this file.")
	}
	c.blank()
	c.section("global", "")
	c.set("type", "global")
	c.set("user_agent", "helpline")
	c.set("endpoint_identifier_order", "ip,username")
	c.blank()
	c.section(p.transport, "")
	c.set("type", "transport")
	c.set("protocol", s.Protocol)
	c.set("bind", s.Bind)
	if s.ExternalAddress != "" {
		c.set("external_media_address", s.ExternalAddress)
		c.set("external_signaling_address", s.ExternalAddress)
		for _, n := range s.LocalNet {
			c.set("local_net", n)
		}
	}

	c.blank()
	c.comment("---- Operators' softphones: context " + contextOperators + " (feature codes only) ----")
	c.blank()
	c.section(operatorTemplate, "!")
	c.set("type", "endpoint")
	c.set("transport", p.transport)
	c.set("context", contextOperators)
	c.set("disallow", "all")
	c.set("allow", strings.Join(p.site.Codecs, ","))
	c.set("dtmf_mode", "rfc4733")
	c.set("direct_media", "no")
	c.set("rtp_symmetric", "yes")
	c.set("force_rport", "yes")
	c.set("rewrite_contact", "yes")
	c.set("trust_id_inbound", "no")
	c.set("trust_id_outbound", "no")
	c.set("send_pai", "no")
	c.set("allow_subscribe", "no")
	c.set("allow_transfer", "no")
	c.set("language", lang)
	c.blank()
	c.section(operatorAuthTemplate, "!")
	c.set("type", "auth")
	c.set("auth_type", "digest")
	c.blank()
	c.section(operatorAORTemplate, "!")
	c.set("type", "aor")
	c.set("max_contacts", "1")
	c.set("remove_existing", "yes")
	c.set("qualify_frequency", "30")
	for _, o := range p.operators {
		c.blank()
		c.comment(fmt.Sprintf("%s (operator %s; languages %s)", displayName(o.op.Name), o.op.ID, strings.Join(o.op.Languages, ", ")))
		c.section(o.endpoint, operatorTemplate)
		c.set("callerid", fmt.Sprintf("\"%s\" <%s>", displayName(o.op.Name), o.op.ID))
		c.set("auth", o.endpoint)
		c.set("aors", o.endpoint)
		c.blank()
		c.section(o.endpoint, operatorAuthTemplate)
		c.set("username", o.endpoint)
		c.set("password", o.password.Reveal())
		c.blank()
		c.section(o.endpoint, operatorAORTemplate)
	}

	c.blank()
	c.comment("---- The provider's trunk: context " + contextInbound + " (the helpline's numbers only) ----")
	c.blank()
	c.section(trunkTemplate, "!")
	c.set("type", "endpoint")
	c.set("transport", p.transport)
	c.set("context", contextInbound)
	c.set("disallow", "all")
	c.set("allow", strings.Join(t.Codecs, ","))
	c.set("dtmf_mode", "rfc4733")
	c.set("direct_media", "no")
	c.set("rtp_symmetric", "yes")
	c.set("trust_id_inbound", "yes")
	c.set("trust_id_outbound", "no")
	c.set("send_pai", "no")
	c.set("allow_subscribe", "no")
	c.set("allow_transfer", "no")
	c.set("language", lang)
	c.blank()
	c.section(p.trunk, trunkTemplate)
	c.set("aors", p.trunk)
	if t.Username != "" {
		c.set("outbound_auth", p.trunk+"-auth")
	}
	if t.FromUser != "" {
		c.set("from_user", t.FromUser)
	}
	if t.FromDomain != "" {
		c.set("from_domain", t.FromDomain)
	}
	c.blank()
	c.section(p.trunk, "")
	c.set("type", "aor")
	c.set("contact", p.sipURI(""))
	c.set("qualify_frequency", "60")
	if t.Username != "" {
		c.blank()
		c.section(p.trunk+"-auth", "")
		c.set("type", "auth")
		c.set("auth_type", "digest")
		c.set("username", t.Username)
		c.set("password", p.sec.TrunkPassword.Reveal())
	}
	if t.Register {
		c.blank()
		c.section(p.trunk+"-reg", "")
		c.set("type", "registration")
		c.set("transport", p.transport)
		c.set("outbound_auth", p.trunk+"-auth")
		c.set("server_uri", p.sipURI(""))
		c.set("client_uri", p.sipURI(t.Username))
		// Providers send calls for a registration to its contact, so the
		// contact's user is what the dialplan sees: the first DID.
		c.set("contact_user", t.DIDs[0])
		c.set("retry_interval", "60")
		c.set("forbidden_retry_interval", "600")
		c.set("expiration", "3600")
		c.set("line", "yes")
		c.set("endpoint", p.trunk)
	}
	c.blank()
	c.section(p.trunk+"-identify", "")
	c.set("type", "identify")
	c.set("endpoint", p.trunk)
	for _, m := range p.match {
		c.set("match", m)
	}
	p.internodePJSIP(c)
	return c.bytes()
}

// displayName makes an operator's name safe inside callerid="…": quotes,
// angle brackets, backslashes, semicolons and control characters are
// dropped (the name is only shown, never matched).
func displayName(name string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || strings.ContainsRune("\"<>\\;", r) {
			return -1
		}
		return r
	}, name)
}
