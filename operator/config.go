package operator

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/helpline-it/helpline/config"
	"github.com/helpline-it/helpline/ivr"
)

// Prompts are what an operator hears after a feature code, in
// Config.Language. Empty ones are skipped (the action still happens).
type Prompts struct {
	// EnterCode invites the operator to key a code, when they dialled the
	// feature line (e.g. 9000) rather than the code itself.
	EnterCode []ivr.Media
	LoggedIn  []ivr.Media
	LoggedOut []ivr.Media
	Paused    []ivr.Media
	Unpaused  []ivr.Media
	Flagged   []ivr.Media
	// Refused: a wrong code, or one that cannot act now (logging out
	// while talking, no caller to flag, an unknown service, a store down).
	Refused []ivr.Media
	// Withheld: the caller to flag withheld their number; withheld
	// callers can never be flagged or blocked.
	Withheld []ivr.Media
	// Unknown: the softphone is not any operator's endpoint.
	Unknown []ivr.Media
	// Unreachable: the service did not answer, was busy or failed (to the
	// operator, after a call to a service or a transfer that failed).
	Unreachable []ivr.Media
}

// Config is the operator side's configuration in plain Go; FromConfig
// maps the YAML onto it.
type Config struct {
	// Service is written in every outbound CDR (e.g. "1522").
	Service string
	// Codes are the feature codes (config.FeatureCodes: *11 log in, …).
	Codes config.FeatureCodes
	// Operators are the operators and their softphones: the calling
	// endpoint says who dials a code.
	Operators []config.Operator
	// Language is the language of the operator prompts.
	Language string
	// Prompts are the operator prompts.
	Prompts Prompts
	// Trunk dials the network's services.
	Trunk config.Trunk
	// RingTimeout bounds the ringing of a service's phone.
	RingTimeout time.Duration
	// CodeTimeout ends a code keyed after the answer (no '#'): the pause
	// after the last key; before the first key the operator has
	// FirstKeyTimeout.
	CodeTimeout     time.Duration
	FirstKeyTimeout time.Duration
	// PauseReasons names the optional digit after the pause code
	// ("*131" = break). A digit not listed is refused.
	PauseReasons map[ivr.Digit]string
	// LastCallerTTL is how long after a talk its caller can still be
	// flagged by the operator (the "last caller" is forgotten then).
	LastCallerTTL time.Duration
	// MOHClass is played to a caller on hold during a consultation.
	MOHClass string
	// Consult are the keys of a consultation (warm transfer).
	Consult ConsultKeys
}

// ConsultKeys are what the operator presses on their leg while they
// consult a service, the caller on hold. Other keys reach the service
// (its own menu, say).
type ConsultKeys struct {
	// Complete hands the caller to the service; the operator leaves.
	Complete ivr.Digit
	// Return ends the consultation (the service is hung up, or stops
	// ringing) and takes the operator back to the caller.
	Return ivr.Digit
	// ThreeWay brings the caller in: caller, operator and service in one
	// bridge (the emergency case: the police on the line with both).
	ThreeWay ivr.Digit
}

// DefaultConsultKeys are 1 complete, 2 return, 3 three-way.
func DefaultConsultKeys() ConsultKeys { return ConsultKeys{Complete: '1', Return: '2', ThreeWay: '3'} }

// Pause reasons the operator side gives the queue.
const (
	// PauseManual: *13 without a reason digit.
	PauseManual = "manual"
	// PauseOutbound: the operator is on a call to a service; the pause
	// keeps the queue from ringing them meanwhile and is lifted after.
	PauseOutbound = "outbound_call"
)

// DefaultPauseReasons are the reason digits of *13<digit>.
func DefaultPauseReasons() map[ivr.Digit]string {
	return map[ivr.Digit]string{'1': "break", '2': "meeting", '3': "training", '4': "admin"}
}

// ErrConfig marks a configuration error; the message names the field.
var ErrConfig = errors.New("operator: bad config")

// Validate names the first bad field.
func (c Config) Validate() error {
	bad := func(field, format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrConfig, field, fmt.Sprintf(format, args...))
	}
	switch {
	case c.Service == "":
		return bad("Service", "empty")
	case c.Codes[config.FeatureLogin] == "":
		return bad("Codes", "no login code")
	case c.RingTimeout <= 0:
		return bad("RingTimeout", "%v, want a positive duration", c.RingTimeout)
	case c.CodeTimeout <= 0:
		return bad("CodeTimeout", "%v, want a positive duration", c.CodeTimeout)
	case c.FirstKeyTimeout <= 0:
		return bad("FirstKeyTimeout", "%v, want a positive duration", c.FirstKeyTimeout)
	case c.LastCallerTTL <= 0:
		return bad("LastCallerTTL", "%v, want a positive duration", c.LastCallerTTL)
	case !strings.Contains(c.Trunk.Dial, "{number}"):
		return bad("Trunk.Dial", "%q has no {number}", c.Trunk.Dial)
	}
	k := c.Consult
	for _, d := range []ivr.Digit{k.Complete, k.Return, k.ThreeWay} {
		if !d.Valid() {
			return bad("Consult", "%q is not a DTMF key", rune(d))
		}
	}
	if k.Complete == k.Return || k.Complete == k.ThreeWay || k.Return == k.ThreeWay {
		return bad("Consult", "keys %s, %s and %s must differ", k.Complete, k.Return, k.ThreeWay)
	}
	seen := map[string]bool{}
	for i, o := range c.Operators {
		if o.ID == "" || o.Endpoint == "" {
			return bad(fmt.Sprintf("Operators[%d]", i), "id and endpoint are required")
		}
		k := endpointKey(o.Endpoint)
		if seen[k] {
			return bad(fmt.Sprintf("Operators[%d].Endpoint", i), "%q listed twice", o.Endpoint)
		}
		seen[k] = true
	}
	return nil
}

// FromConfig maps the switchboard's configuration onto the operator
// side's. The prompts are the configuration's operator prompts in the
// default language; those it has no key for yet (enter code, withheld,
// unknown phone, unreachable service) fall back to operator_refused, so
// that the operator always hears that the action did not happen.
func FromConfig(cfg *config.Config) Config {
	lang := cfg.IVR.DefaultLanguage
	media := func(id config.PromptID) []ivr.Media {
		p := cfg.Prompt(lang, id)
		out := make([]ivr.Media, 0, len(p.Sound))
		for _, s := range p.Media(nil) {
			out = append(out, ivr.Media(s))
		}
		return out
	}
	refused := media(config.PromptOperatorRefused)
	return Config{
		Service:   cfg.Service,
		Codes:     cfg.FeatureCodes,
		Operators: slices.Clone(cfg.Operators),
		Language:  lang,
		Prompts: Prompts{
			LoggedIn:    media(config.PromptOperatorLoggedIn),
			LoggedOut:   media(config.PromptOperatorLoggedOut),
			Paused:      media(config.PromptOperatorPaused),
			Unpaused:    media(config.PromptOperatorUnpaused),
			Flagged:     media(config.PromptOperatorFlagged),
			Refused:     refused,
			Withheld:    refused,
			Unknown:     refused,
			Unreachable: refused,
		},
		Trunk:           cfg.Trunk,
		RingTimeout:     cfg.Queue.RingTimeout,
		CodeTimeout:     3 * time.Second,
		FirstKeyTimeout: 10 * time.Second,
		PauseReasons:    DefaultPauseReasons(),
		LastCallerTTL:   12 * time.Hour,
		MOHClass:        cfg.IVR.MusicOnHold,
		Consult:         DefaultConsultKeys(),
	}
}

// DefaultConfig is a configuration for tests and the demo: the default
// feature codes, no operators, sound prompts named after their use.
func DefaultConfig() Config {
	s := func(name string) []ivr.Media { return []ivr.Media{ivr.Sound("helpline/operator-" + name)} }
	return Config{
		Service: "1522",
		Codes: config.FeatureCodes{
			config.FeatureLogin: "*11", config.FeatureLogout: "*12", config.FeaturePause: "*13",
			config.FeatureFlagHarassment: "*14", config.FeatureFlagPrank: "*15",
			config.FeatureCallService: "*20", config.FeatureBlindTransfer: "*21", config.FeatureWarmTransfer: "*22",
		},
		Language: "it",
		Prompts: Prompts{
			EnterCode: s("enter-code"), LoggedIn: s("logged-in"), LoggedOut: s("logged-out"),
			Paused: s("paused"), Unpaused: s("unpaused"), Flagged: s("flagged"), Refused: s("refused"),
			Withheld: s("withheld"), Unknown: s("unknown"), Unreachable: s("unreachable"),
		},
		Trunk:           config.Trunk{Dial: "PJSIP/{number}@trunk"},
		RingTimeout:     20 * time.Second,
		CodeTimeout:     3 * time.Second,
		FirstKeyTimeout: 10 * time.Second,
		PauseReasons:    DefaultPauseReasons(),
		LastCallerTTL:   12 * time.Hour,
		Consult:         DefaultConsultKeys(),
	}
}

// byEndpoint finds the operator whose softphone is endpoint, comparing as
// Asterisk does (technology case-insensitively, resource exactly).
func (c Config) byEndpoint(endpoint string) (config.Operator, bool) {
	k := endpointKey(endpoint)
	for _, o := range c.Operators {
		if endpointKey(o.Endpoint) == k {
			return o, true
		}
	}
	return config.Operator{}, false
}

func endpointKey(e string) string {
	tech, res, _ := strings.Cut(e, "/")
	return strings.ToLower(tech) + "/" + res
}
