package config

import (
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"time"
)

// Config is everything an administrator sets for one switchboard node.
// Parse and Load return it complete: defaults filled in, every reference
// checked, the time zone loaded. Secrets are not in it, only where to find
// them; see Config.Secrets.
type Config struct {
	// File is the name the configuration was read from.
	File string

	// Service identifies the helpline (e.g. "1522"); every CDR, queue and
	// report carries it, so several services can later share one switchboard.
	Service string
	// Timezone names the service's zone (default Europe/Rome); opening hours
	// and the report's weekday × hour table are read on its wall clock.
	Timezone string
	// Location is Timezone, loaded.
	Location *time.Location
	// NodeID tells apart the switchboard nodes writing to one CDR store or
	// Redis (default "node1").
	NodeID string

	ARI       ARI
	Redis     Redis
	CDR       CDR
	Privacy   Privacy
	HTTP      HTTP
	Languages []Language // in menu order: by Digit, 1 to 9 then 0
	IVR       IVR
	Queue     Queue
	Blacklist Blacklist
	Operators []Operator
	// FeatureCodes are what operators dial from their softphones.
	FeatureCodes FeatureCodes
	Trunk        Trunk
	// Nodes are the switchboard nodes sharing this node's Redis queue, by
	// node_id, each with this node's inter-node trunk towards it (empty:
	// a single node). See Node.
	Nodes map[string]Node
	// Prompts holds, for every language in Languages, every PromptID:
	// what the file sets, completed with the built-in texts.
	Prompts map[string]map[PromptID]Prompt
}

// ARI is how to reach Asterisk's REST interface.
type ARI struct {
	// URL is the base of Asterisk's HTTP server, e.g. http://127.0.0.1:8088
	// (the client adds /ari).
	URL string
	// App is the Stasis application name used in the dialplan (default helpline).
	App      string
	Username string
	Password SecretRef
}

// Redis is where queues, operator state and the blacklist live.
type Redis struct {
	// Addr is host:port, or the path of a unix socket ("/run/redis.sock" or
	// "unix:/run/redis.sock").
	Addr     string
	DB       int
	Password SecretRef
	// KeyPrefix starts every key (default "helpline:").
	KeyPrefix string
	// Sentinel, when set (redis.sentinel), finds the master through Redis
	// Sentinel (and follows its failovers) instead of dialling Addr. A
	// pointer keeps Redis comparable.
	Sentinel *RedisSentinel
}

// Network returns the network and address to dial Addr with, as
// net.Dial and go-redis's Options want them.
func (r Redis) Network() (network, address string) {
	if p, ok := strings.CutPrefix(r.Addr, "unix:"); ok {
		return "unix", p
	}
	if strings.HasPrefix(r.Addr, "/") {
		return "unix", r.Addr
	}
	return "tcp", r.Addr
}

// CDR drivers.
const (
	DriverSQLite   = "sqlite"
	DriverPostgres = "postgres"
)

// CDR is where call records are written.
type CDR struct {
	// Driver is DriverSQLite (default) or DriverPostgres.
	Driver string
	// Path is the SQLite database file (driver sqlite).
	Path string
	// DSN is the PostgreSQL connection string without password (driver postgres).
	DSN string
	// Password is the PostgreSQL password, if the server wants one.
	Password SecretRef
	// SpoolDir holds records that could not be written yet; they are
	// replayed so a store outage loses nothing.
	SpoolDir string
}

// Privacy holds the key that turns caller numbers into the keyed hash that
// stands in for them everywhere at rest.
type Privacy struct {
	HMACKey SecretRef
}

// HTTP is the health, metrics and admin listener.
type HTTP struct {
	// Listen is host:port (default 127.0.0.1:9522).
	Listen string
	// AllowPublic must be true to listen on anything but a loopback address.
	AllowPublic bool
	// AdminToken guards the admin endpoints; required when AllowPublic.
	AdminToken SecretRef
}

// Language is one choice of the language menu, with its own queue.
type Language struct {
	// Code is the language's code (it, en, fr, es, ar, de, …); it names the
	// queue and is stamped on CDRs.
	Code string
	// Name is how supervisors' screens show it (default: Code).
	Name string
	// Digit is the DTMF digit that chooses it in the menu.
	Digit string
	// Hours says when it is offered, in the service time zone.
	Hours Hours
}

// IVR is the caller-side call flow.
type IVR struct {
	// DefaultLanguage is where callers go after MenuTries missing or invalid
	// choices (default it). It must be open always.
	DefaultLanguage string
	// WelcomeLanguages are the languages whose welcome prompt plays, in
	// order, before the menu (default: DefaultLanguage only).
	WelcomeLanguages []string
	// MenuTries is how many times the menu plays before DefaultLanguage is
	// chosen (default 2).
	MenuTries int
	// DigitTimeout is how long the menu waits for a digit (default 5s).
	DigitTimeout time.Duration
	// MaxWait ends a wait in the queue as unanswered (default 15m).
	MaxWait time.Duration
	// AnnounceInterval is how often position and expected wait are
	// announced; 0 announces them once, on entry (default 60s).
	AnnounceInterval time.Duration
	// VoicemailDigit, pressed while waiting, leaves a message (default 9;
	// "" turns voicemail off).
	VoicemailDigit string
	// VoicemailMaxLength caps a message (default 3m).
	VoicemailMaxLength time.Duration
	// RecordingsDir is where messages are kept.
	RecordingsDir string
	// MusicOnHold is the Asterisk music-on-hold class (default "default").
	MusicOnHold string
}

// Queue is how waiting calls meet operators.
type Queue struct {
	// RingTimeout is how long an operator's phone rings (default 20s).
	RingTimeout time.Duration
	// WrapUp is the pause after every call (default 30s).
	WrapUp time.Duration
	// LongCallThreshold and LongCallWrapUp: a call that lasted at least the
	// threshold is followed by the longer wrap-up (defaults 20m, 5m).
	LongCallThreshold time.Duration
	LongCallWrapUp    time.Duration
	// FlaggedWrapUp follows a call the operator flagged (default 5m).
	FlaggedWrapUp time.Duration
	// AutoPauseOnNoAnswer pauses an operator who let the phone ring out
	// (default true).
	AutoPauseOnNoAnswer bool
	// LongestWaitAlert highlights, in the live view, a caller waiting longer
	// (default 2m).
	LongestWaitAlert time.Duration
}

// WrapUpAfter returns the wrap-up that follows a call of length talk: the
// longest of the wrap-ups that apply.
func (q Queue) WrapUpAfter(talk time.Duration, flagged bool) time.Duration {
	d := q.WrapUp
	if q.LongCallThreshold > 0 && talk >= q.LongCallThreshold {
		d = max(d, q.LongCallWrapUp)
	}
	if flagged {
		d = max(d, q.FlaggedWrapUp)
	}
	return d
}

// Rejection is how a blacklisted call is turned away.
type Rejection string

// Rejections.
const (
	// RejectBusy signals busy without answering.
	RejectBusy Rejection = "busy"
	// RejectCongestion signals congestion without answering.
	RejectCongestion Rejection = "congestion"
	// RejectMessage plays Blacklist.Message as early media, then hangs up.
	RejectMessage Rejection = "message"
)

// Blacklist is how operators' flags turn into blocks.
type Blacklist struct {
	// Rejection defaults to RejectBusy.
	Rejection Rejection
	// Message is played when Rejection is RejectMessage.
	Message Prompt
	// FlagsThreshold flags within Window block the number for BlockDuration
	// (defaults 3, 30d, 30d).
	FlagsThreshold int
	Window         time.Duration
	BlockDuration  time.Duration
}

// Operator is one operator and the softphone she answers on.
type Operator struct {
	// ID is stamped on CDRs; unique.
	ID string
	// Name is shown to supervisors (default: ID).
	Name string
	// Endpoint is the Asterisk endpoint to ring, e.g. PJSIP/op1001; unique.
	// Feature codes dialled from it act for this operator.
	Endpoint string
	// Languages the operator answers in, as language codes.
	Languages []string
}

// Speaks reports whether the operator answers in language code.
func (o Operator) Speaks(code string) bool { return slices.Contains(o.Languages, code) }

// Feature is something an operator does by dialling a feature code.
type Feature string

// Features, named as their keys under feature_codes.
const (
	FeatureLogin          Feature = "login"
	FeatureLogout         Feature = "logout"
	FeaturePause          Feature = "pause" // toggles pause
	FeatureFlagHarassment Feature = "flag_harassment"
	FeatureFlagPrank      Feature = "flag_prank"
	// FeatureCallService, FeatureBlindTransfer and FeatureWarmTransfer are
	// followed by a directory code or a number (*20 then 1234).
	FeatureCallService   Feature = "call_service"
	FeatureBlindTransfer Feature = "blind_transfer"
	FeatureWarmTransfer  Feature = "warm_transfer"
)

// Features lists every feature in the order of the file.
func Features() []Feature {
	return []Feature{FeatureLogin, FeatureLogout, FeaturePause, FeatureFlagHarassment, FeatureFlagPrank,
		FeatureCallService, FeatureBlindTransfer, FeatureWarmTransfer}
}

// TakesArgument reports whether the feature code is followed by a number
// or directory code.
func (f Feature) TakesArgument() bool {
	return f == FeatureCallService || f == FeatureBlindTransfer || f == FeatureWarmTransfer
}

// FeatureCodes maps each Feature to the string an operator dials. No code is
// a prefix of another, so a dialled string matches at most one feature.
type FeatureCodes map[Feature]string

// Match finds the feature a dialled string asks for. For features that
// take an argument, rest is what follows the code (possibly empty, which
// the caller should refuse); for the others the string must equal the code.
func (fc FeatureCodes) Match(dialled string) (f Feature, rest string, ok bool) {
	for _, f := range Features() {
		code := fc[f]
		if code == "" {
			continue
		}
		if dialled == code {
			return f, "", true
		}
		if f.TakesArgument() {
			if r, found := strings.CutPrefix(dialled, code); found {
				return f, r, true
			}
		}
	}
	return "", "", false
}

// Trunk is how calls leave for the anti-violence network.
type Trunk struct {
	// Dial is the Asterisk dial string, with {number} where the number goes,
	// e.g. PJSIP/{number}@trunk.
	Dial string
	// CallerID presented on outbound calls (optional).
	CallerID string
}

// DialString returns the dial string that calls number.
func (t Trunk) DialString(number string) string {
	return strings.Replace(t.Dial, "{number}", number, 1)
}

// Load reads and parses the file at path. Relative paths inside it (CDR
// database, spool, recordings, secret files) are taken relative to the
// file's directory. A file that cannot be read gives a wrapped *fs.PathError;
// a file that can be read but is wrong gives Errors.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(path, data)
}

// Parse parses and validates data, naming it name in errors. Relative paths
// inside it are taken relative to name's directory. It returns either a
// complete Config or Errors holding every problem found.
func Parse(name string, data []byte) (*Config, error) {
	c := defaults()
	c.File = name
	d := newDecoder(name)
	d.document(data, c)
	if d.exhausted != nil {
		return nil, Errors{d.exhausted}
	}
	if d.decoded {
		d.validate(c)
	}
	if len(d.errs) > 0 {
		return nil, d.errs.sorted()
	}
	return c, nil
}

// Language returns the language with the given code.
func (c *Config) Language(code string) (Language, bool) {
	i := slices.IndexFunc(c.Languages, func(l Language) bool { return l.Code == code })
	if i < 0 {
		return Language{}, false
	}
	return c.Languages[i], true
}

// OpenLanguages returns the codes of the languages offered at t, in menu
// order (see Language.Digit: 1 to 9, then 0). A window's end is exclusive:
// with English open 08:00–20:00 Monday to Friday, a call at 19:59:59 on a
// Tuesday is offered English and one at 20:00:00 is not. Times are read on
// the wall clock of the service time zone, so DST days need no special case.
func (c *Config) OpenLanguages(t time.Time) []string {
	var out []string
	for _, l := range c.Languages {
		if l.Hours.OpenAt(t, c.Location) {
			out = append(out, l.Code)
		}
	}
	return out
}

// Operator returns the operator with the given id.
func (c *Config) Operator(id string) (Operator, bool) {
	i := slices.IndexFunc(c.Operators, func(o Operator) bool { return o.ID == id })
	if i < 0 {
		return Operator{}, false
	}
	return c.Operators[i], true
}

// OperatorByEndpoint returns the operator whose softphone is endpoint
// (compared as Asterisk does: technology case-insensitively).
func (c *Config) OperatorByEndpoint(endpoint string) (Operator, bool) {
	key := endpointKey(endpoint)
	i := slices.IndexFunc(c.Operators, func(o Operator) bool { return endpointKey(o.Endpoint) == key })
	if i < 0 {
		return Operator{}, false
	}
	return c.Operators[i], true
}

// Prompt returns prompt id in language lang; every configured language has
// every prompt.
func (c *Config) Prompt(lang string, id PromptID) Prompt {
	return c.Prompts[lang][id]
}

// endpointKey normalises an endpoint for comparison: Asterisk matches
// channel technologies case-insensitively, resources exactly.
func endpointKey(e string) string {
	tech, res, _ := strings.Cut(e, "/")
	return strings.ToLower(tech) + "/" + res
}

// menuRank orders menu digits as on a keypad: 1…9, then 0.
func menuRank(digit string) int {
	if digit == "0" {
		return 10
	}
	if len(digit) == 1 && digit[0] >= '1' && digit[0] <= '9' {
		return int(digit[0] - '0')
	}
	return 11
}

// isLoopbackHost reports whether host (from host:port) only ever binds a
// loopback interface.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// defaults returns the configuration with every default filled in; the
// file overrides it key by key.
func defaults() *Config {
	return &Config{
		Timezone: "Europe/Rome",
		NodeID:   "node1",
		ARI:      ARI{App: "helpline", Password: SecretRef{Key: "ari.password"}},
		Redis: Redis{Addr: "127.0.0.1:6379", KeyPrefix: "helpline:",
			Password: SecretRef{Key: "redis.password"}},
		CDR: CDR{
			Driver:   DriverSQLite,
			Path:     "/var/lib/helpline/cdr.db",
			SpoolDir: "/var/lib/helpline/spool",
			Password: SecretRef{Key: "cdr.password"},
		},
		Privacy: Privacy{HMACKey: SecretRef{Key: "privacy.hmac_key"}},
		HTTP:    HTTP{Listen: "127.0.0.1:9522", AdminToken: SecretRef{Key: "http.admin_token"}},
		IVR: IVR{
			DefaultLanguage:    "it",
			MenuTries:          2,
			DigitTimeout:       5 * time.Second,
			MaxWait:            15 * time.Minute,
			AnnounceInterval:   60 * time.Second,
			VoicemailDigit:     "9",
			VoicemailMaxLength: 3 * time.Minute,
			RecordingsDir:      "/var/lib/helpline/recordings",
			MusicOnHold:        "default",
		},
		Queue: Queue{
			RingTimeout:         20 * time.Second,
			WrapUp:              30 * time.Second,
			LongCallThreshold:   20 * time.Minute,
			LongCallWrapUp:      5 * time.Minute,
			FlaggedWrapUp:       5 * time.Minute,
			AutoPauseOnNoAnswer: true,
			LongestWaitAlert:    2 * time.Minute,
		},
		Blacklist: Blacklist{
			Rejection:      RejectBusy,
			Message:        builtinRejectMessage(),
			FlagsThreshold: 3,
			Window:         30 * 24 * time.Hour,
			BlockDuration:  30 * 24 * time.Hour,
		},
		FeatureCodes: FeatureCodes{
			FeatureLogin:          "*11",
			FeatureLogout:         "*12",
			FeaturePause:          "*13",
			FeatureFlagHarassment: "*14",
			FeatureFlagPrank:      "*15",
			FeatureCallService:    "*20",
			FeatureBlindTransfer:  "*21",
			FeatureWarmTransfer:   "*22",
		},
		Trunk: Trunk{Dial: "PJSIP/{number}@trunk"},
	}
}
