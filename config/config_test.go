package config

import (
	"errors"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// mustLoad loads a testdata file that must be valid.
func mustLoad(t *testing.T, name string) *Config {
	t.Helper()
	c, err := Load(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("Load(%s): %v", name, err)
	}
	return c
}

// TestExample checks the embedded example is valid, describes the seed
// service, and shows the real defaults where it says it does.
func TestExample(t *testing.T) {
	c, err := Parse("example.yaml", ExampleYAML())
	if err != nil {
		t.Fatalf("the example does not pass: %v", err)
	}
	codes := make([]string, len(c.Languages))
	for i, l := range c.Languages {
		codes[i] = l.Code + "=" + l.Digit + ":" + l.Hours.String()
	}
	want := []string{
		"it=1:always",
		"en=2:mon-fri 08:00-20:00",
		"fr=3:mon-fri 10:00-14:00",
		"es=4:mon-fri 10:00-14:00",
		"ar=5:mon-fri 10:00-12:00",
		"de=6:mon,wed,fri 10:00-12:00",
	}
	if !slices.Equal(codes, want) {
		t.Errorf("languages = %q, want %q", codes, want)
	}
	if c.Service != "1522" || c.Location.String() != "Europe/Rome" {
		t.Errorf("service %q in %v, want 1522 in Europe/Rome", c.Service, c.Location)
	}
	if len(c.Operators) != 4 {
		t.Errorf("%d operators, want 4", len(c.Operators))
	}
	// The example claims to show defaults: hold it to that.
	def := defaults()
	def.IVR.WelcomeLanguages = []string{"it"}
	checks := []struct {
		name      string
		got, want any
	}{
		{"timezone", c.Timezone, def.Timezone},
		{"node_id", c.NodeID, def.NodeID},
		{"ari.app", c.ARI.App, def.ARI.App},
		{"redis", c.Redis, def.Redis},
		{"cdr", c.CDR, def.CDR},
		{"http", c.HTTP, def.HTTP},
		{"queue", c.Queue, def.Queue},
		{"blacklist.rejection", c.Blacklist.Rejection, def.Blacklist.Rejection},
		{"blacklist.message.text", c.Blacklist.Message.Text, def.Blacklist.Message.Text},
		{"blacklist.message.sound", strings.Join(c.Blacklist.Message.Sound, " "), strings.Join(def.Blacklist.Message.Sound, " ")},
		{"blacklist.flags_threshold", c.Blacklist.FlagsThreshold, def.Blacklist.FlagsThreshold},
		{"blacklist.window", c.Blacklist.Window, def.Blacklist.Window},
		{"blacklist.block_duration", c.Blacklist.BlockDuration, def.Blacklist.BlockDuration},
		{"trunk.dial", c.Trunk.Dial, def.Trunk.Dial},
		{"ivr.menu_tries", c.IVR.MenuTries, def.IVR.MenuTries},
		{"ivr.digit_timeout", c.IVR.DigitTimeout, def.IVR.DigitTimeout},
		{"ivr.max_wait", c.IVR.MaxWait, def.IVR.MaxWait},
		{"ivr.announce_interval", c.IVR.AnnounceInterval, def.IVR.AnnounceInterval},
		{"ivr.voicemail_digit", c.IVR.VoicemailDigit, def.IVR.VoicemailDigit},
		{"ivr.voicemail_max_length", c.IVR.VoicemailMaxLength, def.IVR.VoicemailMaxLength},
		{"ivr.recordings_dir", c.IVR.RecordingsDir, def.IVR.RecordingsDir},
		{"ivr.music_on_hold", c.IVR.MusicOnHold, def.IVR.MusicOnHold},
		{"ivr.default_language", c.IVR.DefaultLanguage, def.IVR.DefaultLanguage},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("example %s = %+v, default is %+v", ch.name, ch.got, ch.want)
		}
	}
	for _, f := range Features() {
		if c.FeatureCodes[f] != def.FeatureCodes[f] {
			t.Errorf("example feature_codes.%s = %q, default is %q", f, c.FeatureCodes[f], def.FeatureCodes[f])
		}
	}
	// Overrides from the example's prompts section, over the built-ins.
	if got := c.Prompt("it", PromptWelcome).Text; !strings.Contains(got, "1522") {
		t.Errorf("it welcome = %q, want the example's override", got)
	}
	if got := c.Prompt("fr", PromptMenu); got.Text != "Pour le français, tapez {digit}." ||
		!slices.Equal(got.Media(map[string]string{"digit": "3"}), []string{"sound:helpline/fr/menu", "digits:3"}) {
		t.Errorf("fr menu = %+v, want the built-in", got)
	}
	if got := c.Prompt("en", PromptMenu).Media(map[string]string{"digit": "2"}); !slices.Equal(got, []string{"sound:custom/for-english-press", "digits:2"}) {
		t.Errorf("en menu media = %q, want the example's", got)
	}
	wait := c.Prompt("ar", PromptQueueWait).Media(map[string]string{"minutes": "4"})
	if !slices.Equal(wait, []string{"sound:helpline/ar/queue_wait", "number:4", "sound:helpline/ar/minutes"}) {
		t.Errorf("ar queue_wait media = %q", wait)
	}
}

// TestEveryPrompt checks every language of the example has every prompt,
// and the default language every operator prompt.
func TestEveryPrompt(t *testing.T) {
	c, err := Parse("example.yaml", ExampleYAML())
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range c.Languages {
		ids := CallerPrompts()
		if l.Code == c.IVR.DefaultLanguage {
			ids = append(ids, OperatorPrompts()...)
		}
		for _, id := range ids {
			p := c.Prompt(l.Code, id)
			if p.Text == "" && len(p.Sound) == 0 {
				t.Errorf("%s %s: empty", l.Code, id)
			}
			for _, s := range append([]string{p.Text}, p.Sound...) {
				for _, name := range placeholdersIn(s) {
					if !slices.Contains(id.placeholders(), name) {
						t.Errorf("%s %s: %q has unknown {%s}", l.Code, id, s, name)
					}
				}
			}
			// A placeholder in the text is said by the sound too.
			for _, name := range placeholdersIn(p.Text) {
				if !slices.ContainsFunc(p.Sound, func(s string) bool { return strings.Contains(s, "{"+name+"}") }) && len(p.Sound) > 0 {
					t.Errorf("%s %s: text says {%s} but the sound %q does not", l.Code, id, name, p.Sound)
				}
			}
		}
	}
}

// TestMinimal checks defaults fill what a minimal file leaves out, and
// relative paths are read relative to the file.
func TestMinimal(t *testing.T) {
	c := mustLoad(t, "minimal.yaml")
	if c.Timezone != "Europe/Rome" || c.ARI.App != "helpline" || c.CDR.Driver != DriverSQLite ||
		c.HTTP.Listen != "127.0.0.1:9522" || c.Queue.RingTimeout != 20*time.Second {
		t.Errorf("defaults not applied: %+v", c)
	}
	if want := filepath.Join("testdata", "secrets", "hmac.key"); c.Privacy.HMACKey.File != want {
		t.Errorf("hmac_key_file = %q, want %q (relative to the file)", c.Privacy.HMACKey.File, want)
	}
	if c.Operators[0].Name != "op1" || c.Languages[0].Name != "Italiano" {
		t.Errorf("names: operator %q, language %q", c.Operators[0].Name, c.Languages[0].Name)
	}
	if !slices.Equal(c.IVR.WelcomeLanguages, []string{"it"}) {
		t.Errorf("welcome languages = %q, want [it]", c.IVR.WelcomeLanguages)
	}
	if c.Prompt("it", PromptOperatorLoggedIn).Text == "" {
		t.Error("built-in operator prompts missing")
	}
}

// TestAliases checks YAML anchors and aliases are followed.
func TestAliases(t *testing.T) {
	c := mustLoad(t, "aliases.yaml")
	fr, _ := c.Language("fr")
	es, _ := c.Language("es")
	if fr.Hours.String() != "mon-fri 10:00-14:00" || es.Hours.String() != fr.Hours.String() {
		t.Errorf("hours fr %q es %q", fr.Hours, es.Hours)
	}
	op2, ok := c.Operator("op2")
	if !ok || !slices.Equal(op2.Languages, []string{"it", "fr", "es"}) {
		t.Errorf("op2 = %+v", op2)
	}
}

// TestAliasBomb checks that aliases repeating a large structure cannot
// make the loader walk millions of nodes: it stops with one clear error.
func TestAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("operators:\n  - &o {id: a, endpoint: PJSIP/a, languages: [")
	b.WriteString(strings.Repeat("it, ", 1000))
	b.WriteString("it]}\n")
	for range 300 {
		b.WriteString("  - *o\n")
	}
	_, err := Parse("bomb.yaml", []byte(b.String()))
	var errs Errors
	if !errors.As(err, &errs) || len(errs) != 1 || !strings.Contains(errs[0].Msg, "too large") {
		t.Fatalf("Parse = %v, want only the size error", err)
	}
}

func TestPostgresDSN(t *testing.T) {
	tests := []struct {
		dsn  string
		want bool
	}{
		{"postgres://helpline@db/helpline", false},
		{"postgres://helpline:pw@db/helpline", true},
		{"postgres://helpline@db/helpline?password=pw", true},
		{"host=db user=helpline dbname=helpline", false},
		{"host=db user=helpline password=pw", true},
		{"host=db PASSWORD = pw", true},
	}
	for _, tt := range tests {
		if got := dsnHasPassword(tt.dsn); got != tt.want {
			t.Errorf("dsnHasPassword(%q) = %v, want %v", tt.dsn, got, tt.want)
		}
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		err  bool
	}{
		{"90s", 90 * time.Second, false},
		{"15m", 15 * time.Minute, false},
		{"0", 0, false},
		{"30d", 30 * 24 * time.Hour, false},
		{"1d12h", 36 * time.Hour, false},
		{"-2h", -2 * time.Hour, false},
		{"-1d", -24 * time.Hour, false},
		{"30", 0, true},
		{"30days", 0, true},
		{"d", 0, true},
		{"1d-2h", 0, true},
		{"+1d", 0, true},
		{"--1s", 0, true},
		{"", 0, true},
		{"999999999d", 0, true},
		{"106751d24h", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestParseTimeOfDay(t *testing.T) {
	tests := []struct {
		in   string
		want TimeOfDay
		err  bool
	}{
		{"00:00", 0, false},
		{"08:00", 480, false},
		{"8:30", 510, false},
		{"23:59", 1439, false},
		{"24:00", EndOfDay, false},
		{"24:01", 0, true},
		{"25:00", 0, true},
		{"12:60", 0, true},
		{"12", 0, true},
		{"12:5", 0, true},
		{"-1:00", 0, true},
		{"+1:00", 0, true},
		{"123:00", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseTimeOfDay(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("ParseTimeOfDay(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

func TestParseDays(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"mon", "mon"},
		{"Sun", "sun"},
		{"mon-fri", "mon-fri"},
		{"fri-mon", "mon,fri-sun"},
		{"sat-sun", "sat-sun"},
		{"sun-sat", "mon-sun"},
		{"tues", ""},
		{"mon-", ""},
		{"", ""},
	}
	for _, tt := range tests {
		days, err := parseDays(tt.in)
		got := ""
		if err == nil {
			got = daysString(days)
		}
		if got != tt.want {
			t.Errorf("parseDays(%q) = %q (%v), want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestFeatureCodesMatch(t *testing.T) {
	c, err := Parse("example.yaml", ExampleYAML())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		dialled string
		want    Feature
		rest    string
		ok      bool
	}{
		{"*11", FeatureLogin, "", true},
		{"*13", FeaturePause, "", true},
		{"*14", FeatureFlagHarassment, "", true},
		{"*201234", FeatureCallService, "1234", true},
		{"*20", FeatureCallService, "", true},
		{"*21800123456", FeatureBlindTransfer, "800123456", true},
		{"*22112", FeatureWarmTransfer, "112", true},
		{"*111", "", "", false}, // login takes no argument
		{"*99", "", "", false},
		{"", "", "", false},
	}
	for _, tt := range tests {
		f, rest, ok := c.FeatureCodes.Match(tt.dialled)
		if f != tt.want || rest != tt.rest || ok != tt.ok {
			t.Errorf("Match(%q) = %q, %q, %v; want %q, %q, %v", tt.dialled, f, rest, ok, tt.want, tt.rest, tt.ok)
		}
	}
}

func TestWrapUpAfter(t *testing.T) {
	q := defaults().Queue // 30s, long 5m after 20m, flagged 5m
	q.FlaggedWrapUp = 10 * time.Minute
	tests := []struct {
		talk    time.Duration
		flagged bool
		want    time.Duration
	}{
		{time.Minute, false, 30 * time.Second},
		{20*time.Minute - time.Second, false, 30 * time.Second},
		{20 * time.Minute, false, 5 * time.Minute},
		{time.Minute, true, 10 * time.Minute},
		{time.Hour, true, 10 * time.Minute},
	}
	for _, tt := range tests {
		if got := q.WrapUpAfter(tt.talk, tt.flagged); got != tt.want {
			t.Errorf("WrapUpAfter(%v, %v) = %v, want %v", tt.talk, tt.flagged, got, tt.want)
		}
	}
}

func TestSmallHelpers(t *testing.T) {
	if got := (Trunk{Dial: "PJSIP/{number}@trunk"}).DialString("0612345678"); got != "PJSIP/0612345678@trunk" {
		t.Errorf("DialString = %q", got)
	}
	for _, tt := range []struct{ addr, network, address string }{
		{"127.0.0.1:6379", "tcp", "127.0.0.1:6379"},
		{"/run/redis.sock", "unix", "/run/redis.sock"},
		{"unix:/run/redis.sock", "unix", "/run/redis.sock"},
	} {
		if n, a := (Redis{Addr: tt.addr}).Network(); n != tt.network || a != tt.address {
			t.Errorf("Network(%q) = %s %s", tt.addr, n, a)
		}
	}
	c, err := Parse("example.yaml", ExampleYAML())
	if err != nil {
		t.Fatal(err)
	}
	if o, ok := c.OperatorByEndpoint("pjsip/op1003"); !ok || o.ID != "op1003" {
		t.Errorf("OperatorByEndpoint(pjsip/op1003) = %+v, %v", o, ok)
	}
	if _, ok := c.OperatorByEndpoint("PJSIP/OP1003"); ok {
		t.Error("endpoint resources must match exactly")
	}
	got := c.Prompt("it", PromptQueuePosition).Expand(map[string]string{"position": "3"})
	if got != "La tua posizione in coda è 3." {
		t.Errorf("Expand = %q", got)
	}
}

// TestExampleDocumentsEveryKey checks example.yaml, the key reference,
// mentions every key the loader accepts, so a new key cannot be added
// without its documentation.
func TestExampleDocumentsEveryKey(t *testing.T) {
	d := newDecoder("example.yaml")
	d.document(ExampleYAML(), defaults())
	if len(d.errs) > 0 {
		t.Fatal(d.errs)
	}
	if len(d.known) < 60 {
		t.Fatalf("only %d keys seen; did the walk skip sections?", len(d.known))
	}
	text := string(ExampleYAML())
	for key := range d.known {
		if !regexp.MustCompile(`\b` + regexp.QuoteMeta(key) + `\b`).MatchString(text) {
			t.Errorf("example.yaml does not mention the key %q", key)
		}
	}
}
