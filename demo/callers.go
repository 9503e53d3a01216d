package demo

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// Random streams. Each kind of draw has its own stream, derived from the
// scenario's seed, so that what one kind draws never shifts another: the
// callers (arrival times, numbers, behaviour) are the same whatever the
// switchboard's timing made the operators do.
const (
	streamArrivals = iota + 1
	streamCallers
	streamNumbers
	streamOperators // + operator index
)

func newRand(seed uint64, stream int) *rand.Rand {
	return rand.New(rand.NewPCG(seed, uint64(stream)*0x9e3779b97f4a7c15))
}

// draw returns a duration uniformly in r.
func draw(rng *rand.Rand, r Range) time.Duration {
	if r.Max <= r.Min {
		return r.Min
	}
	return r.Min + time.Duration(rng.Int64N(int64(r.Max-r.Min)+1))
}

// arrivals generates the arrival instants: a Poisson process whose rate
// follows the profile hour by hour (inverting the integrated rate, so the
// draws are exact however the rate changes).
type arrivals struct {
	s   *Scenario
	rng *rand.Rand
}

// maxQuietSearch bounds the search for the next arrival: a profile that
// is zero for a whole week has no next arrival.
const maxQuietSearch = 8 * 24 * time.Hour

// after returns the next arrival after t, and false if there is none
// before end (zero end: no end).
func (a *arrivals) after(t, end time.Time) (time.Time, bool) {
	need := a.rng.ExpFloat64() // in calls
	cur := t
	for cur.Sub(t) < maxQuietSearch {
		if !end.IsZero() && !cur.Before(end) {
			return time.Time{}, false
		}
		segEnd := nextLocalHour(cur, a.s.Location)
		rate := a.s.Rate * a.s.Profile.Rate(cur, a.s.Location) / float64(time.Hour) // calls per ns
		if span := float64(segEnd.Sub(cur)); rate > 0 && rate*span >= need {
			at := cur.Add(time.Duration(math.Ceil(need / rate)))
			if !end.IsZero() && !at.Before(end) {
				return time.Time{}, false
			}
			return at, true
		} else {
			need -= rate * span
		}
		cur = segEnd
	}
	return time.Time{}, false
}

// nextLocalHour is the start of the local hour after the one holding t.
func nextLocalHour(t time.Time, loc *time.Location) time.Time {
	l := t.In(loc)
	// The start of t's local hour; in the hour repeated at the end of
	// daylight-saving time time.Date may give its first instance, an
	// hour early: step on until past t.
	b := time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), 0, 0, 0, loc)
	for !b.After(t) {
		b = b.Add(time.Hour)
	}
	return b
}

// planKind is what a caller sets out to do.
type planKind int

const (
	planBlocked planKind = iota // calls from a blacklisted number
	planWelcomeHangup
	planSilent // presses nothing: default language after the menu
	planChoose // presses their language's key
)

// plan is one caller's behaviour, drawn when the call arrives.
type plan struct {
	number string
	kind   planKind
	// act is when, after the answer, the caller hangs up (welcome
	// hang-up) or presses the key (digit).
	act   time.Duration
	digit rune
	lang  string
	// In the queue: patience before hanging up; voicemailAt (0: never)
	// after which a message of message is left; talk and who ends it.
	patience     time.Duration
	voicemailAt  time.Duration
	message      time.Duration
	talk         time.Duration
	operatorEnds bool
}

// callers draws the callers' plans and numbers.
type callers struct {
	s       *Scenario
	rng     *rand.Rand
	numbers *numbers
	blocked []string
	known   []string // numbers that called, for repeat calls
}

func newCallers(s *Scenario) *callers {
	c := &callers{s: s, rng: newRand(s.Seed, streamCallers), numbers: newNumbers(s.Seed)}
	for range s.Callers.BlockedNumbers {
		c.blocked = append(c.blocked, c.numbers.next())
	}
	return c
}

// draw returns the plan of a caller arriving at t.
func (c *callers) draw(t time.Time) plan {
	b := &c.s.Callers
	u := c.rng.Float64()
	switch {
	case u < b.Blacklisted && len(c.blocked) > 0:
		return plan{kind: planBlocked, number: c.blocked[c.rng.IntN(len(c.blocked))]}
	case u < b.Blacklisted+b.WelcomeHangup:
		return plan{kind: planWelcomeHangup, number: c.number(), act: draw(c.rng, b.WelcomeHangupAfter)}
	}
	p := plan{kind: planChoose, number: c.number()}
	if c.rng.Float64() < b.Silent {
		p.kind = planSilent
	} else {
		p.act = draw(c.rng, b.ChooseAfter)
		l := c.language(t)
		p.digit, p.lang = l.Digit, l.Code
	}
	p.patience = time.Duration(c.rng.ExpFloat64() * float64(b.Patience))
	if c.rng.Float64() < b.Voicemail {
		p.voicemailAt = max(draw(c.rng, b.VoicemailAfter), time.Millisecond)
		p.message = draw(c.rng, b.MessageLength)
	}
	talk := time.Duration(float64(b.TalkMedian) * math.Exp(b.TalkSpread*c.rng.NormFloat64()))
	p.talk = min(max(talk, b.TalkBounds.Min), max(b.TalkBounds.Max, b.TalkBounds.Min))
	p.operatorEnds = c.rng.Float64() < b.OperatorEnds
	return p
}

// number is a caller's number: withheld, a repeat caller, or a new one.
func (c *callers) number() string {
	b := &c.s.Callers
	switch {
	case c.rng.Float64() < b.Withheld:
		return "anonymous"
	case len(c.known) > 0 && c.rng.Float64() < b.Repeat:
		return c.known[c.rng.IntN(len(c.known))]
	}
	n := c.numbers.next()
	c.known = append(c.known, n)
	return n
}

// language picks among the languages open at t by their shares; with
// none open (a schedule that closes even the default) the first one.
func (c *callers) language(t time.Time) Language {
	open := c.s.openLanguages(t)
	if len(open) == 0 {
		return c.s.Languages[0]
	}
	var total float64
	for _, l := range open {
		total += l.Share
	}
	if total <= 0 {
		return open[0]
	}
	u := c.rng.Float64() * total
	for _, l := range open {
		if u < l.Share {
			return l
		}
		u -= l.Share
	}
	return open[len(open)-1]
}

// numbers makes up Italian mobile numbers (+39 3xx xxxxxxx), none twice.
// They are random and belong to nobody in particular; the switchboard
// treats them as real numbers, so none of them may reach disk or output.
type numbers struct {
	rng  *rand.Rand
	seen map[string]bool
}

func newNumbers(seed uint64) *numbers {
	return &numbers{rng: newRand(seed, streamNumbers), seen: map[string]bool{}}
}

func (n *numbers) next() string {
	for {
		s := fmt.Sprintf("+393%02d%07d", 20+n.rng.IntN(80), n.rng.IntN(10_000_000))
		if !n.seen[s] {
			n.seen[s] = true
			return s
		}
	}
}

// Numbers returns every number the scenario's callers can call from when
// at most calls calls are placed: the blacklisted pool and the first
// numbers of new callers. Tests and audits use it to check that no raw
// number reached a file or the output.
func (s *Scenario) Numbers(calls int) []string {
	n := newNumbers(s.Seed)
	out := make([]string, 0, s.Callers.BlockedNumbers+calls)
	for range s.Callers.BlockedNumbers + calls {
		out = append(out, n.next())
	}
	return out
}
