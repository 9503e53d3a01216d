package ivr

import (
	"errors"
	"fmt"
	"time"
)

// BlockMode is how a blacklisted caller is turned away.
type BlockMode string

// Block modes.
const (
	// BlockBusy rejects the call without answering, with busy tone (17).
	BlockBusy BlockMode = "busy"
	// BlockCongestion rejects without answering, with fast busy (34).
	BlockCongestion BlockMode = "congestion"
	// BlockMessage answers, plays Prompts.Blocked and hangs up.
	BlockMessage BlockMode = "message"
)

// Language is one language of the menu. Its queue skill is its Code.
type Language struct {
	// Code is the language code used for prompts, queue skills and the
	// CDR (e.g. "it", "en").
	Code string
	// Digit is the key that chooses it in the menu ('0'–'9').
	Digit Digit
	// Menu is the prompt that offers it ("for English press 2"), played
	// in this language.
	Menu Media
}

// Prompts are the media the flow plays. Empty ones are skipped.
type Prompts struct {
	// Welcome opens every answered call; a digit interrupts it.
	Welcome Media
	// Blocked is played to blacklisted callers in BlockMessage mode.
	Blocked Media
	// InvalidChoice follows a wrong or missing menu choice.
	InvalidChoice Media
	// Position precedes the caller's place in the queue ("you are number").
	Position Media
	// PositionEnd follows the place, where the language says words after
	// the number ("in the queue"); "" when it says none.
	PositionEnd Media
	// ExpectedWait precedes the expected minutes ("the wait is about").
	ExpectedWait Media
	// Minutes follows the number of minutes.
	Minutes Media
	// VoicemailOffer ends each announcement ("press 9 to leave a
	// message"); skipped when voicemail is disabled.
	VoicemailOffer Media
	// VoicemailIntro is played before the beep.
	VoicemailIntro Media
	// VoicemailThanks is played after the recording, if the caller is
	// still there.
	VoicemailThanks Media
	// Unanswered is played before hanging up a call nobody could answer
	// (max wait, no operator, error).
	Unanswered Media
}

// PromptsFor returns the prompts for a caller who chose lang: that
// language's prompts, each empty one filled from the default Prompts.
func (c Config) PromptsFor(lang string) Prompts {
	p, ok := c.LanguagePrompts[lang]
	if !ok {
		return c.Prompts
	}
	fill := func(m *Media, def Media) {
		if *m == "" {
			*m = def
		}
	}
	d := c.Prompts
	fill(&p.Welcome, d.Welcome)
	fill(&p.Blocked, d.Blocked)
	fill(&p.InvalidChoice, d.InvalidChoice)
	if p.Position == "" {
		// The words around the number go together: a language without
		// its own Position takes the default's ending too, and one with
		// its own keeps its own (none, when it says nothing after).
		p.PositionEnd = d.PositionEnd
	}
	fill(&p.Position, d.Position)
	fill(&p.ExpectedWait, d.ExpectedWait)
	fill(&p.Minutes, d.Minutes)
	fill(&p.VoicemailOffer, d.VoicemailOffer)
	fill(&p.VoicemailIntro, d.VoicemailIntro)
	fill(&p.VoicemailThanks, d.VoicemailThanks)
	fill(&p.Unanswered, d.Unanswered)
	return p
}

// Config is the call flow's configuration, in plain Go: cmd/helpline maps
// the YAML config onto it. Validate reports the first bad field by name.
type Config struct {
	// Service is written in every CDR and queue entry (e.g. "1522").
	Service string
	// Node is this helpline node's name; it owns the calls it enqueues.
	Node string

	// Languages in menu order. Only those the Schedule reports open are
	// offered; DefaultLanguage is always available as the fallback.
	Languages []Language
	// DefaultLanguage is the language of the welcome prompt and the
	// choice after MenuTries failed attempts ("it").
	DefaultLanguage string
	// MenuTries is how many times the menu is offered before falling back
	// to DefaultLanguage (2: "invalid twice → Italian").
	MenuTries int
	// MenuTimeout is how long the flow waits for a key after the menu
	// prompt ended.
	MenuTimeout time.Duration

	// BlockMode is how blacklisted callers are turned away.
	BlockMode BlockMode
	// BlacklistTimeout bounds the blacklist lookup; past it the check is
	// skipped (as if Redis were down) and the caller goes on.
	BlacklistTimeout time.Duration

	// Prompts are the media played in DefaultLanguage: the welcome, the
	// menu's invalid-choice prompt and the blocked message, which every
	// caller hears before choosing a language, and the fallback for any
	// language LanguagePrompts lacks.
	Prompts Prompts
	// LanguagePrompts are the media played once the caller has chosen a
	// language (queue announcements, voicemail, the unanswered message),
	// by language code. A caller who chose English must hear English
	// announcements: the engine's language parameter alone cannot switch
	// a prompt whose media name is per language (sound:helpline/en/...).
	// A language missing here, or an empty prompt in it, falls back to
	// Prompts.
	LanguagePrompts map[string]Prompts
	// MOHClass is the music-on-hold class ("" = engine default).
	MOHClass string

	// AnnounceEvery is the interval of the position and expected-wait
	// announcements while waiting (0 disables them).
	AnnounceEvery time.Duration
	// AverageHandle is the average time an operator spends per call, the
	// base of ExpectedWait.
	AverageHandle time.Duration
	// MaxWait is the longest a caller waits in the queue before the call
	// ends as unanswered.
	MaxWait time.Duration
	// NoOperatorGrace: when nobody with the language's skill is logged in,
	// the call ends as unanswered once two checks NoOperatorGrace apart
	// both found nobody (0: at once, checked only on queue entry).
	NoOperatorGrace time.Duration
	// EnqueueAttempts is how many times Enqueue is tried (with backoff
	// from 500ms) before the call ends as unanswered ("queue_unavailable").
	EnqueueAttempts int

	// VoicemailDigit leaves the queue to record a message (0 disables).
	VoicemailDigit Digit
	// VoicemailMax bounds a message's length.
	VoicemailMax time.Duration
	// VoicemailFormat is the recording's file format ("wav").
	VoicemailFormat string

	// RingTimeout is how long an operator's phone rings.
	RingTimeout time.Duration
	// OfferTTL is how long the queue reserves an offered call and
	// operator; it must exceed RingTimeout so that a ringing phone never
	// outlives its reservation (ivr also cancels the ring at
	// RingTimeout + (OfferTTL-RingTimeout)/2).
	OfferTTL time.Duration
	// WrapUp is the operator's wrap-up after a call.
	WrapUp time.Duration
	// LongCall is the talk time from which LongWrapUp applies.
	LongCall time.Duration
	// LongWrapUp is the wrap-up after a long call.
	LongWrapUp time.Duration
	// FlaggedWrapUp is the wrap-up after a call the operator flagged as
	// abusive during the talk (Talk.Flag). The longest wrap-up that
	// applies wins (see WrapUpAfter).
	FlaggedWrapUp time.Duration
	// FeatureTimeout ends a feature code the operator keys on their leg
	// during a talk ("*221234"): the code is complete at '#' or after this
	// long without a key (see doc.go, DTMF rules).
	FeatureTimeout time.Duration
	// DispatchEvery is the dispatcher's safety-net tick.
	DispatchEvery time.Duration

	// CDRRetryFor is how long a failing CDR write is retried (with
	// exponential backoff from 200ms to 30s) before the record is handed
	// to Deps.Spool and logged in full at error level.
	CDRRetryFor time.Duration
}

// DefaultConfig returns the configuration of the 1522 seed: Italian always,
// English, French, Spanish, Arabic and German on the menu.
func DefaultConfig() Config {
	return Config{
		Service: "1522",
		Node:    "node1",
		Languages: []Language{
			{Code: "it", Digit: '1', Menu: Sound("helpline/menu-it")},
			{Code: "en", Digit: '2', Menu: Sound("helpline/menu-en")},
			{Code: "fr", Digit: '3', Menu: Sound("helpline/menu-fr")},
			{Code: "es", Digit: '4', Menu: Sound("helpline/menu-es")},
			{Code: "ar", Digit: '5', Menu: Sound("helpline/menu-ar")},
			{Code: "de", Digit: '6', Menu: Sound("helpline/menu-de")},
		},
		DefaultLanguage:  "it",
		MenuTries:        2,
		MenuTimeout:      5 * time.Second,
		BlockMode:        BlockBusy,
		BlacklistTimeout: 500 * time.Millisecond,
		Prompts: Prompts{
			Welcome:         Sound("helpline/welcome"),
			Blocked:         Sound("helpline/blocked"),
			InvalidChoice:   Sound("helpline/invalid"),
			Position:        Sound("helpline/position"),
			ExpectedWait:    Sound("helpline/expected-wait"),
			Minutes:         Sound("helpline/minutes"),
			VoicemailOffer:  Sound("helpline/voicemail-offer"),
			VoicemailIntro:  Sound("helpline/voicemail-intro"),
			VoicemailThanks: Sound("helpline/voicemail-thanks"),
			Unanswered:      Sound("helpline/unanswered"),
		},
		AnnounceEvery:   60 * time.Second,
		AverageHandle:   6 * time.Minute,
		MaxWait:         10 * time.Minute,
		NoOperatorGrace: 30 * time.Second,
		EnqueueAttempts: 4,
		VoicemailDigit:  '9',
		VoicemailMax:    2 * time.Minute,
		VoicemailFormat: "wav",
		RingTimeout:     20 * time.Second,
		OfferTTL:        30 * time.Second,
		WrapUp:          30 * time.Second,
		LongCall:        20 * time.Minute,
		LongWrapUp:      2 * time.Minute,
		FlaggedWrapUp:   5 * time.Minute,
		FeatureTimeout:  3 * time.Second,
		DispatchEvery:   5 * time.Second,
		CDRRetryFor:     10 * time.Minute,
	}
}

// ErrConfig marks a configuration error; the message names the field.
var ErrConfig = errors.New("ivr: bad config")

// Validate checks the configuration and names the first bad field.
func (c Config) Validate() error {
	bad := func(field, format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrConfig, field, fmt.Sprintf(format, args...))
	}
	if c.Node == "" {
		return bad("Node", "empty")
	}
	if len(c.Languages) == 0 {
		return bad("Languages", "none")
	}
	codes := map[string]bool{}
	digits := map[Digit]string{}
	for i, l := range c.Languages {
		field := fmt.Sprintf("Languages[%d]", i)
		if l.Code == "" {
			return bad(field+".Code", "empty")
		}
		if codes[l.Code] {
			return bad(field+".Code", "%q listed twice", l.Code)
		}
		codes[l.Code] = true
		if l.Digit < '0' || l.Digit > '9' {
			return bad(field+".Digit", "%q is not a key 0-9", rune(l.Digit))
		}
		if other, dup := digits[l.Digit]; dup {
			return bad(field+".Digit", "%s is already the key of %q", l.Digit, other)
		}
		digits[l.Digit] = l.Code
	}
	if !codes[c.DefaultLanguage] {
		return bad("DefaultLanguage", "%q is not one of Languages", c.DefaultLanguage)
	}
	if c.MenuTries < 1 {
		return bad("MenuTries", "%d, want at least 1", c.MenuTries)
	}
	switch c.BlockMode {
	case BlockBusy, BlockCongestion, BlockMessage:
	default:
		return bad("BlockMode", "%q, want busy, congestion or message", c.BlockMode)
	}
	if c.VoicemailDigit != 0 && !c.VoicemailDigit.Valid() {
		return bad("VoicemailDigit", "%q is not a DTMF key", rune(c.VoicemailDigit))
	}
	positive := []struct {
		name string
		d    time.Duration
	}{
		{"MenuTimeout", c.MenuTimeout},
		{"BlacklistTimeout", c.BlacklistTimeout},
		{"AverageHandle", c.AverageHandle},
		{"MaxWait", c.MaxWait},
		{"RingTimeout", c.RingTimeout},
		{"OfferTTL", c.OfferTTL},
		{"DispatchEvery", c.DispatchEvery},
		{"CDRRetryFor", c.CDRRetryFor},
	}
	for _, p := range positive {
		if p.d <= 0 {
			return bad(p.name, "%v, want a positive duration", p.d)
		}
	}
	nonNegative := []struct {
		name string
		d    time.Duration
	}{
		{"AnnounceEvery", c.AnnounceEvery},
		{"NoOperatorGrace", c.NoOperatorGrace},
		{"WrapUp", c.WrapUp},
		{"LongCall", c.LongCall},
		{"LongWrapUp", c.LongWrapUp},
		{"FlaggedWrapUp", c.FlaggedWrapUp},
	}
	for _, p := range nonNegative {
		if p.d < 0 {
			return bad(p.name, "%v is negative", p.d)
		}
	}
	if c.VoicemailDigit != 0 {
		if c.VoicemailMax <= 0 {
			return bad("VoicemailMax", "%v, want a positive duration", c.VoicemailMax)
		}
		if c.VoicemailFormat == "" {
			return bad("VoicemailFormat", "empty")
		}
	}
	if c.FeatureTimeout < 0 {
		return bad("FeatureTimeout", "%v is negative", c.FeatureTimeout)
	}
	if c.OfferTTL <= c.RingTimeout {
		return bad("OfferTTL", "%v must exceed RingTimeout %v", c.OfferTTL, c.RingTimeout)
	}
	if c.EnqueueAttempts < 1 {
		return bad("EnqueueAttempts", "%d, want at least 1", c.EnqueueAttempts)
	}
	return nil
}

// WrapUpAfter is the operator's wrap-up after a talk of length talk: the
// longest of those that apply (WrapUp; LongWrapUp from LongCall on;
// FlaggedWrapUp when the operator flagged the caller). It is the same
// rule as config.Queue.WrapUpAfter.
func (c Config) WrapUpAfter(talk time.Duration, flagged bool) time.Duration {
	d := c.WrapUp
	if c.LongCall > 0 && talk >= c.LongCall {
		d = max(d, c.LongWrapUp)
	}
	if flagged {
		d = max(d, c.FlaggedWrapUp)
	}
	return d
}

// featureTimeout is FeatureTimeout, 3 s when unset.
func (c Config) featureTimeout() time.Duration {
	if c.FeatureTimeout <= 0 {
		return 3 * time.Second
	}
	return c.FeatureTimeout
}
