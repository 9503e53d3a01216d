package demo

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"time"
)

// Scenario is everything the simulation draws from: when callers arrive,
// what they do, and who answers. Build one with DefaultScenario and
// change what you need; Validate names the first bad field.
type Scenario struct {
	// Start is the first simulated instant; Duration is how long callers
	// keep arriving (0: until Run's context ends).
	Start    time.Time
	Duration time.Duration
	// Location is the service's time zone: the profile's hours and the
	// operators' shifts are read on its clock.
	Location *time.Location
	// Seed makes the draws reproducible: the same seed and scenario give
	// the same callers (arrival times, numbers, languages, behaviour) and
	// the same operator decisions ring after ring. The outcomes then come
	// out the same (in practice; a wait may move by a step when the
	// machine is loaded, and in rare cases tip a caller's patience).
	Seed uint64

	// Profile is the arrival rate by weekday and hour; Rate multiplies it
	// (2 = twice the seed's traffic).
	Profile Profile
	Rate    float64

	// Number is the helpline number the callers dial.
	Number string
	// Languages are the menu's languages with their keys and their share
	// of the callers who choose one. A caller whose language is not
	// offered at the moment of the call chooses among those offered, in
	// proportion to their shares.
	Languages []Language
	// Open says which language codes the menu offers at t (nil: all). It
	// must agree with the switchboard's schedule.
	Open func(t time.Time) []string
	// Welcome is how long the welcome prompt plays: welcome hang-ups
	// happen inside it and most callers press their key during it.
	Welcome time.Duration

	// Callers is what the callers do.
	Callers Behaviour
	// Operators is the roster.
	Operators []Operator

	// Drain bounds how long, after Duration, the simulation waits for the
	// calls still in progress to end (default an hour: the longest wait
	// plus the longest talk).
	Drain time.Duration
}

// Language is one menu choice.
type Language struct {
	// Code is the language code ("it"); Digit its menu key ('1').
	Code  string
	Digit rune
	// Share is its weight among the callers who choose a language.
	Share float64
}

// Range is a duration drawn uniformly between Min and Max.
type Range struct{ Min, Max time.Duration }

// Behaviour holds the callers' probabilities and timings. Shares are of
// all calls unless said otherwise.
type Behaviour struct {
	// Blacklisted is the share of calls from numbers on the blacklist;
	// they come from a pool of BlockedNumbers numbers, blocked when the
	// simulation starts (abusive callers call again and again).
	Blacklisted    float64
	BlockedNumbers int
	// WelcomeHangup is the share of calls that hang up during the
	// welcome, after WelcomeHangupAfter.
	WelcomeHangup      float64
	WelcomeHangupAfter Range
	// Withheld is the share of the other calls that withhold their number
	// (never blacklisted, never identified).
	Withheld float64
	// Repeat is the share of the other calls made from a number that
	// already called during the simulation.
	Repeat float64
	// Silent is the share of callers going to a queue who press nothing:
	// after the menu's tries they get the default language.
	Silent float64
	// ChooseAfter is when, after the answer, the others press their
	// language's key (during the welcome it interrupts it).
	ChooseAfter Range
	// Patience is the mean of the exponentially distributed time a caller
	// waits in the queue before hanging up (abandoned).
	Patience time.Duration
	// Voicemail is the share of queued callers who, still waiting after
	// VoicemailAfter, press VoicemailDigit and leave a message of
	// MessageLength (they wait for VoicemailIntro to end first).
	Voicemail      float64
	VoicemailAfter Range
	VoicemailDigit rune
	VoicemailIntro time.Duration
	MessageLength  Range
	// TalkMedian and TalkSpread shape the log-normal talk time (median
	// and σ of its logarithm), bounded by TalkBounds.
	TalkMedian time.Duration
	TalkSpread float64
	TalkBounds Range
	// OperatorEnds is the share of answered calls that the operator ends;
	// the caller ends the others.
	OperatorEnds float64
}

// Operator is one operator of the roster, with her own phone (a PJSIP
// endpoint named as her ID).
type Operator struct {
	ID        string
	Name      string
	Languages []string
	// Shift is the local time of day she is logged in: From inclusive,
	// Until exclusive, wrapping midnight when Until <= From (20:00–08:00).
	// From == Until == 0 means the whole day.
	Shift Shift
	// RingDelay is how long her phone rings before she answers.
	RingDelay Range
	// Miss is the probability she lets a ring go unanswered (she is then
	// auto-paused by the switchboard) and PauseFor how long she takes to
	// notice and unpause.
	Miss     float64
	PauseFor Range
	// BreakEvery is the mean time between her breaks (exponentially
	// distributed; 0: none), BreakFor how long one lasts. She pauses
	// herself for it when she is free.
	BreakEvery time.Duration
	BreakFor   Range
}

// Shift is a window of the local day, as offsets from midnight.
type Shift struct{ From, Until time.Duration }

// Contains reports whether the local time of day tod falls in the shift.
func (s Shift) Contains(tod time.Duration) bool {
	switch {
	case s.From == s.Until:
		return true
	case s.From < s.Until:
		return tod >= s.From && tod < s.Until
	default: // wraps midnight
		return tod >= s.From || tod < s.Until
	}
}

// Endpoint is the operator's softphone as the switchboard dials it.
func (o Operator) Endpoint() string { return "PJSIP/" + o.ID }

// DefaultMix is the demo's language mix. The seed report publishes no
// split by language, only which languages are offered and when; these
// shares are an illustration (Italian for the great majority, English
// next, the others rare), to be replaced by the service's own figures.
func DefaultMix() map[string]float64 {
	return map[string]float64{"it": 0.86, "en": 0.07, "fr": 0.025, "es": 0.02, "ar": 0.015, "de": 0.01}
}

// DefaultRoster is a day's rota of eight operators covering the clock:
// three at a time from 9 to 21, two at night, with the seed's languages
// at their opening hours (English 08–20, French and Spanish 10–14,
// Arabic 10–12, German 10–12). Each takes a break of 5–15 minutes about
// every hour and a half. With the seed's traffic this gives waits of
// the order of the seed's (36,5 s on average).
func DefaultRoster() []Operator {
	op := func(id, name string, from, until int, langs ...string) Operator {
		return Operator{
			ID: id, Name: name, Languages: langs,
			Shift:      Shift{From: time.Duration(from) * time.Hour, Until: time.Duration(until) * time.Hour},
			RingDelay:  Range{2 * time.Second, 7 * time.Second},
			Miss:       0.04,
			PauseFor:   Range{time.Minute, 4 * time.Minute},
			BreakEvery: 100 * time.Minute,
			BreakFor:   Range{5 * time.Minute, 15 * time.Minute},
		}
	}
	return []Operator{
		op("op1001", "Giulia", 8, 14, "it", "en", "de"),
		op("op1002", "Sara", 10, 16, "it", "fr", "es"),
		op("op1003", "Amina", 9, 15, "it", "ar", "fr"),
		op("op1004", "Katrin", 14, 20, "it", "de", "en"),
		op("op1005", "Marta", 15, 21, "it"),
		op("op1006", "Chiara", 16, 22, "it", "en"),
		op("op1007", "Elena", 21, 7, "it"),
		op("op1008", "Lucia", 22, 9, "it", "en"),
	}
}

// DefaultBehaviour is calibrated on the seed report: 17,8 % of calls
// blacklisted and 28,9 % closed in the welcome (table A.1), talk times
// around its 5m 53s average (A.2), patience such that about 8 % of the
// queued callers give up at the seed's waits. Messages are more frequent
// than in the seed (0,3 % of the queued calls, too few to show up in a
// few simulated hours): Voicemail is 2 % of the queued callers.
func DefaultBehaviour() Behaviour {
	return Behaviour{
		Blacklisted:        0.178,
		BlockedNumbers:     6,
		WelcomeHangup:      0.289,
		WelcomeHangupAfter: Range{time.Second, 7 * time.Second},
		Withheld:           0.05,
		Repeat:             0.10,
		Silent:             0.03,
		ChooseAfter:        Range{1500 * time.Millisecond, 8 * time.Second},
		Patience:           6 * time.Minute,
		Voicemail:          0.02,
		VoicemailAfter:     Range{20 * time.Second, 90 * time.Second},
		VoicemailDigit:     '9',
		VoicemailIntro:     5 * time.Second,
		MessageLength:      Range{10 * time.Second, 40 * time.Second},
		TalkMedian:         4*time.Minute + 25*time.Second,
		TalkSpread:         0.75,
		TalkBounds:         Range{20 * time.Second, 45 * time.Minute},
		OperatorEnds:       0.3,
	}
}

// DefaultScenario is the seed's traffic with the default rota and
// behaviour, from start for d, in loc. The languages are the seed
// service's six (digits 1–6, all open); callers should set Languages'
// digits and Open from the switchboard's configuration.
func DefaultScenario(start time.Time, d time.Duration, loc *time.Location, seed uint64) Scenario {
	mix := DefaultMix()
	var langs []Language
	for i, code := range []string{"it", "en", "fr", "es", "ar", "de"} {
		langs = append(langs, Language{Code: code, Digit: rune('1' + i), Share: mix[code]})
	}
	return Scenario{
		Start:     start,
		Duration:  d,
		Location:  loc,
		Seed:      seed,
		Profile:   SeedProfile(),
		Rate:      1,
		Number:    "1522",
		Languages: langs,
		Welcome:   9 * time.Second,
		Callers:   DefaultBehaviour(),
		Operators: DefaultRoster(),
		Drain:     time.Hour,
	}
}

// ErrScenario marks a scenario that cannot run; the message names the
// field.
var ErrScenario = errors.New("demo: bad scenario")

// Validate names the first field that cannot work.
func (s *Scenario) Validate() error {
	bad := func(field, format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrScenario, field, fmt.Sprintf(format, args...))
	}
	share := func(field string, v float64) error {
		if math.IsNaN(v) || v < 0 || v > 1 {
			return bad(field, "%v is not a share between 0 and 1", v)
		}
		return nil
	}
	rng := func(field string, r Range) error {
		if r.Min < 0 || r.Max < r.Min {
			return bad(field, "%v–%v is not a range", r.Min, r.Max)
		}
		return nil
	}
	switch {
	case s.Start.IsZero():
		return bad("Start", "not set")
	case s.Duration < 0:
		return bad("Duration", "%v is negative", s.Duration)
	case s.Location == nil:
		return bad("Location", "not set")
	case math.IsNaN(s.Rate) || math.IsInf(s.Rate, 0) || s.Rate < 0:
		return bad("Rate", "%v, want a non-negative multiplier", s.Rate)
	case s.Number == "":
		return bad("Number", "empty")
	case len(s.Languages) == 0:
		return bad("Languages", "none")
	case s.Welcome <= 0:
		return bad("Welcome", "%v, want the welcome prompt's length", s.Welcome)
	case s.Drain < 0:
		return bad("Drain", "%v is negative", s.Drain)
	}
	for d := range s.Profile {
		for h, r := range s.Profile[d] {
			if math.IsNaN(r) || math.IsInf(r, 0) || r < 0 {
				return bad(fmt.Sprintf("Profile[%d][%d]", d, h), "%v is not a rate", r)
			}
		}
	}
	var total float64
	for i, l := range s.Languages {
		f := fmt.Sprintf("Languages[%d]", i)
		if l.Code == "" {
			return bad(f+".Code", "empty")
		}
		if l.Digit < '0' || l.Digit > '9' {
			return bad(f+".Digit", "%q is not a key 0-9", l.Digit)
		}
		if math.IsNaN(l.Share) || math.IsInf(l.Share, 0) || l.Share < 0 {
			return bad(f+".Share", "%v is not a weight", l.Share)
		}
		total += l.Share
	}
	if total <= 0 {
		return bad("Languages", "every share is zero")
	}
	c := s.Callers
	for _, f := range []struct {
		name string
		v    float64
	}{
		{"Callers.Blacklisted", c.Blacklisted}, {"Callers.WelcomeHangup", c.WelcomeHangup},
		{"Callers.Withheld", c.Withheld}, {"Callers.Repeat", c.Repeat}, {"Callers.Silent", c.Silent},
		{"Callers.Voicemail", c.Voicemail}, {"Callers.OperatorEnds", c.OperatorEnds},
	} {
		if err := share(f.name, f.v); err != nil {
			return err
		}
	}
	if c.Blacklisted+c.WelcomeHangup > 1 {
		return bad("Callers", "Blacklisted %v + WelcomeHangup %v exceed 1", c.Blacklisted, c.WelcomeHangup)
	}
	if c.Blacklisted > 0 && c.BlockedNumbers < 1 {
		return bad("Callers.BlockedNumbers", "%d, want at least 1 when Blacklisted > 0", c.BlockedNumbers)
	}
	for _, r := range []struct {
		name string
		r    Range
	}{
		{"Callers.WelcomeHangupAfter", c.WelcomeHangupAfter}, {"Callers.ChooseAfter", c.ChooseAfter},
		{"Callers.VoicemailAfter", c.VoicemailAfter}, {"Callers.MessageLength", c.MessageLength},
		{"Callers.TalkBounds", c.TalkBounds},
	} {
		if err := rng(r.name, r.r); err != nil {
			return err
		}
	}
	switch {
	case c.Patience <= 0:
		return bad("Callers.Patience", "%v, want a positive mean", c.Patience)
	case c.TalkMedian <= 0:
		return bad("Callers.TalkMedian", "%v, want a positive median", c.TalkMedian)
	case math.IsNaN(c.TalkSpread) || c.TalkSpread < 0:
		return bad("Callers.TalkSpread", "%v, want σ ≥ 0", c.TalkSpread)
	case c.Voicemail > 0 && (c.VoicemailDigit == 0 || !validDTMF(c.VoicemailDigit)):
		return bad("Callers.VoicemailDigit", "%q is not a DTMF key", c.VoicemailDigit)
	case c.VoicemailIntro < 0:
		return bad("Callers.VoicemailIntro", "%v is negative", c.VoicemailIntro)
	}
	ids := map[string]bool{}
	for i, o := range s.Operators {
		f := fmt.Sprintf("Operators[%d]", i)
		if o.ID == "" || !validResource(o.ID) {
			return bad(f+".ID", "%q, want letters, digits, '-' or '_'", o.ID)
		}
		if ids[o.ID] {
			return bad(f+".ID", "%q listed twice", o.ID)
		}
		ids[o.ID] = true
		if len(o.Languages) == 0 {
			return bad(f+".Languages", "none")
		}
		if o.Shift.From < 0 || o.Shift.From >= 24*time.Hour || o.Shift.Until < 0 || o.Shift.Until > 24*time.Hour {
			return bad(f+".Shift", "%v–%v is not within a day", o.Shift.From, o.Shift.Until)
		}
		if err := share(f+".Miss", o.Miss); err != nil {
			return err
		}
		if err := rng(f+".RingDelay", o.RingDelay); err != nil {
			return err
		}
		if err := rng(f+".PauseFor", o.PauseFor); err != nil {
			return err
		}
		if o.BreakEvery < 0 {
			return bad(f+".BreakEvery", "%v is negative", o.BreakEvery)
		}
		if err := rng(f+".BreakFor", o.BreakFor); err != nil {
			return err
		}
	}
	return nil
}

// openLanguages are the scenario's languages offered at t, in order.
func (s *Scenario) openLanguages(t time.Time) []Language {
	if s.Open == nil {
		return s.Languages
	}
	open := s.Open(t)
	var out []Language
	for _, l := range s.Languages {
		if slices.Contains(open, l.Code) {
			out = append(out, l)
		}
	}
	return out
}

func validDTMF(r rune) bool {
	return (r >= '0' && r <= '9') || (r >= 'A' && r <= 'D') || r == '*' || r == '#'
}

func validResource(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}
