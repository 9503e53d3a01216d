package demo

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/helpline-it/helpline/ari/aritest"
	"github.com/helpline-it/helpline/cdr/memory"
	"github.com/helpline-it/helpline/queue"
)

func rome(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// TestArrivalsReproduceTheSeedQuarter: a quarter of arrivals drawn from
// SeedProfile lands in the seed report's weekday × hour table: every cell
// within 5σ of the published count (Poisson σ = √n) and the total within
// 1 %.
func TestArrivalsReproduceTheSeedQuarter(t *testing.T) {
	loc := rome(t)
	from := time.Date(2025, 6, 1, 0, 0, 0, 0, loc)
	to := time.Date(2025, 9, 1, 0, 0, 0, 0, loc)
	s := DefaultScenario(from, to.Sub(from), loc, 42)
	a := arrivals{s: &s, rng: newRand(s.Seed, streamArrivals)}
	var got [24][7]int
	total := 0
	prev := from
	for at, ok := a.after(from, to); ok; at, ok = a.after(at, to) {
		if !at.After(prev) && total > 0 || at.Before(from) || !at.Before(to) {
			t.Fatalf("arrival %v after %v outside [%v, %v) or not increasing", at, prev, from, to)
		}
		prev = at
		l := at.In(loc)
		got[l.Hour()][weekdayIndex(l.Weekday())]++
		total++
	}
	for h := range seedMatrix {
		for d, want := range seedMatrix[h] {
			if diff := math.Abs(float64(got[h][d] - want)); diff > 5*math.Sqrt(float64(want)) {
				t.Errorf("hour %d day %d: %d arrivals, seed %d", h, d, got[h][d], want)
			}
		}
	}
	if math.Abs(float64(total-34620)) > 346 {
		t.Errorf("%d arrivals in the quarter, seed 34.620", total)
	}
}

// TestArrivalsFollowTheRate: a profile open one hour a week, at 600 calls
// an hour, scaled by Rate; nothing arrives outside that hour or after the
// end, and a profile of zeros has no arrival at all.
func TestArrivalsFollowTheRate(t *testing.T) {
	loc := rome(t)
	monday := time.Date(2025, 7, 21, 0, 0, 0, 0, loc)
	for _, rate := range []float64{1, 0.5} {
		s := DefaultScenario(monday, 7*24*time.Hour, loc, 7)
		s.Profile = Profile{}
		s.Profile[0][10] = 600
		s.Rate = rate
		a := arrivals{s: &s, rng: newRand(s.Seed, streamArrivals)}
		end := monday.Add(s.Duration)
		n := 0
		for at, ok := a.after(monday, end); ok; at, ok = a.after(at, end) {
			if l := at.In(loc); l.Weekday() != time.Monday || l.Hour() != 10 {
				t.Fatalf("arrival at %v", l)
			}
			n++
		}
		if want := 600 * rate; math.Abs(float64(n)-want) > 5*math.Sqrt(want) {
			t.Errorf("rate %v: %d arrivals, want about %v", rate, n, want)
		}
	}
	s := DefaultScenario(monday, 0, loc, 7)
	s.Profile = Profile{}
	a := arrivals{s: &s, rng: newRand(s.Seed, streamArrivals)}
	if at, ok := a.after(monday, time.Time{}); ok {
		t.Errorf("arrival %v with a zero profile", at)
	}
}

// TestNextLocalHour: hour boundaries on the local clock, across both
// daylight-saving changes of Rome.
func TestNextLocalHour(t *testing.T) {
	loc := rome(t)
	tests := []struct {
		at, want time.Time
	}{
		{time.Date(2025, 7, 21, 10, 20, 0, 0, loc), time.Date(2025, 7, 21, 11, 0, 0, 0, loc)},
		{time.Date(2025, 7, 21, 23, 59, 59, 0, loc), time.Date(2025, 7, 22, 0, 0, 0, 0, loc)},
		// 30 March 2025: 02:00 CET jumps to 03:00 CEST.
		{time.Date(2025, 3, 30, 1, 30, 0, 0, loc), time.Date(2025, 3, 30, 3, 0, 0, 0, loc)},
		// 26 October 2025: 03:00 CEST goes back to 02:00 CET.
		{time.Date(2025, 10, 26, 2, 30, 0, 0, time.FixedZone("CEST", 2*3600)), time.Date(2025, 10, 26, 1, 0, 0, 0, time.UTC)},
		{time.Date(2025, 10, 26, 1, 30, 0, 0, time.UTC), time.Date(2025, 10, 26, 2, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		got := nextLocalHour(tt.at, loc)
		if !got.Equal(tt.want) {
			t.Errorf("nextLocalHour(%v) = %v, want %v", tt.at, got.In(loc), tt.want.In(loc))
		}
		if !got.After(tt.at) || got.Sub(tt.at) > time.Hour {
			t.Errorf("nextLocalHour(%v) = %v: not within the next hour", tt.at, got)
		}
	}
}

func TestShiftContains(t *testing.T) {
	h := func(n float64) time.Duration { return time.Duration(n * float64(time.Hour)) }
	tests := []struct {
		shift Shift
		in    []float64
		out   []float64
	}{
		{Shift{h(8), h(14)}, []float64{8, 10, 13.99}, []float64{7.99, 14, 20}},
		{Shift{h(20), h(8)}, []float64{20, 23.5, 0, 7.99}, []float64{8, 12, 19.99}},
		{Shift{}, []float64{0, 12, 23.99}, nil},
		{Shift{h(21), h(24)}, []float64{21, 23.99}, []float64{0, 20.99}},
	}
	for _, tt := range tests {
		for _, v := range tt.in {
			if !tt.shift.Contains(h(v)) {
				t.Errorf("%v should contain %vh", tt.shift, v)
			}
		}
		for _, v := range tt.out {
			if tt.shift.Contains(h(v)) {
				t.Errorf("%v should not contain %vh", tt.shift, v)
			}
		}
	}
}

func TestValidate(t *testing.T) {
	loc := rome(t)
	good := func() Scenario { return DefaultScenario(time.Date(2025, 7, 21, 8, 0, 0, 0, loc), 8*time.Hour, loc, 1) }
	if s := good(); s.Validate() != nil {
		t.Fatalf("default scenario invalid: %v", s.Validate())
	}
	tests := []struct {
		field string
		edit  func(*Scenario)
	}{
		{"Start", func(s *Scenario) { s.Start = time.Time{} }},
		{"Duration", func(s *Scenario) { s.Duration = -time.Second }},
		{"Location", func(s *Scenario) { s.Location = nil }},
		{"Rate", func(s *Scenario) { s.Rate = math.NaN() }},
		{"Rate", func(s *Scenario) { s.Rate = -1 }},
		{"Number", func(s *Scenario) { s.Number = "" }},
		{"Languages", func(s *Scenario) { s.Languages = nil }},
		{"Languages", func(s *Scenario) {
			for i := range s.Languages {
				s.Languages[i].Share = 0
			}
		}},
		{"Languages[1].Digit", func(s *Scenario) { s.Languages[1].Digit = '*' }},
		{"Languages[2].Code", func(s *Scenario) { s.Languages[2].Code = "" }},
		{"Languages[0].Share", func(s *Scenario) { s.Languages[0].Share = math.Inf(1) }},
		{"Welcome", func(s *Scenario) { s.Welcome = 0 }},
		{"Profile[2][5]", func(s *Scenario) { s.Profile[2][5] = -1 }},
		{"Callers.Blacklisted", func(s *Scenario) { s.Callers.Blacklisted = 1.5 }},
		{"Callers", func(s *Scenario) { s.Callers.Blacklisted, s.Callers.WelcomeHangup = 0.6, 0.6 }},
		{"Callers.BlockedNumbers", func(s *Scenario) { s.Callers.BlockedNumbers = 0 }},
		{"Callers.ChooseAfter", func(s *Scenario) { s.Callers.ChooseAfter = Range{Min: 5 * time.Second, Max: time.Second} }},
		{"Callers.Patience", func(s *Scenario) { s.Callers.Patience = 0 }},
		{"Callers.TalkMedian", func(s *Scenario) { s.Callers.TalkMedian = 0 }},
		{"Callers.VoicemailDigit", func(s *Scenario) { s.Callers.VoicemailDigit = 'x' }},
		{"Operators[1].ID", func(s *Scenario) { s.Operators[1].ID = "op 2" }},
		{"Operators[1].ID", func(s *Scenario) { s.Operators[1].ID = s.Operators[0].ID }},
		{"Operators[0].Languages", func(s *Scenario) { s.Operators[0].Languages = nil }},
		{"Operators[0].Shift", func(s *Scenario) { s.Operators[0].Shift.Until = 25 * time.Hour }},
		{"Operators[0].Miss", func(s *Scenario) { s.Operators[0].Miss = -0.1 }},
		{"Operators[0].PauseFor", func(s *Scenario) { s.Operators[0].PauseFor = Range{Min: -1} }},
		{"Operators[2].BreakEvery", func(s *Scenario) { s.Operators[2].BreakEvery = -time.Minute }},
		{"Operators[2].BreakFor", func(s *Scenario) { s.Operators[2].BreakFor = Range{Min: time.Hour, Max: time.Minute} }},
	}
	for _, tt := range tests {
		s := good()
		s.Languages = slices.Clone(s.Languages)
		s.Operators = slices.Clone(s.Operators)
		tt.edit(&s)
		err := s.Validate()
		if !errors.Is(err, ErrScenario) || !strings.Contains(err.Error(), ": "+tt.field+": ") {
			t.Errorf("%s: Validate() = %v, want ErrScenario naming it", tt.field, err)
		}
	}
}

// TestCallerPlans: over many draws the plans follow the behaviour's
// shares, callers only choose languages the menu offers, and the numbers
// are the ones Numbers lists (blocked pool first).
func TestCallerPlans(t *testing.T) {
	loc := rome(t)
	s := DefaultScenario(time.Date(2025, 7, 21, 8, 0, 0, 0, loc), time.Hour, loc, 9)
	s.Open = func(time.Time) []string { return []string{"it", "en"} } // English hours
	c := newCallers(&s)
	const n = 50_000
	kinds := map[planKind]int{}
	langs := map[string]int{}
	withheld, voicemail := 0, 0
	numbers := map[string]bool{}
	for _, num := range s.Numbers(n) {
		numbers[num] = true
	}
	for range n {
		p := c.draw(s.Start)
		kinds[p.kind]++
		if p.number == "anonymous" {
			withheld++
		} else if !numbers[p.number] {
			t.Fatalf("number %s not in Numbers()", p.number)
		}
		if p.kind == planBlocked && !slices.Contains(c.blocked, p.number) {
			t.Fatalf("blacklisted caller from %s, not in the pool", p.number)
		}
		if p.kind == planChoose {
			langs[p.lang]++
			if want := rune('1' + slices.IndexFunc(s.Languages, func(l Language) bool { return l.Code == p.lang })); p.digit != want {
				t.Fatalf("%s chosen with key %c, want %c", p.lang, p.digit, want)
			}
			if p.act < s.Callers.ChooseAfter.Min || p.act > s.Callers.ChooseAfter.Max {
				t.Fatalf("key pressed after %v", p.act)
			}
		}
		if p.kind >= planSilent {
			if p.talk < s.Callers.TalkBounds.Min || p.talk > s.Callers.TalkBounds.Max {
				t.Fatalf("talk %v out of bounds", p.talk)
			}
			if p.voicemailAt > 0 {
				voicemail++
			}
		}
	}
	near := func(what string, got int, of int, want float64) {
		t.Helper()
		share := float64(got) / float64(of)
		if sd := math.Sqrt(want * (1 - want) / float64(of)); math.Abs(share-want) > 5*sd {
			t.Errorf("%s: %.4f, want %.4f", what, share, want)
		}
	}
	b := s.Callers
	near("blacklisted", kinds[planBlocked], n, b.Blacklisted)
	near("welcome hang-up", kinds[planWelcomeHangup], n, b.WelcomeHangup)
	queued := kinds[planSilent] + kinds[planChoose]
	near("silent", kinds[planSilent], queued, b.Silent)
	near("voicemail", voicemail, queued, b.Voicemail)
	near("withheld", withheld, n-kinds[planBlocked], b.Withheld)
	if len(langs) != 2 {
		t.Errorf("languages chosen %v: want only it and en, open now", langs)
	}
	mix := DefaultMix()
	near("English", langs["en"], kinds[planChoose], mix["en"]/(mix["it"]+mix["en"]))
}

// TestNumbersReproducible: Numbers lists the same numbers for the same
// seed, Italian mobiles, none twice, and another seed gives others.
func TestNumbersReproducible(t *testing.T) {
	loc := rome(t)
	a := DefaultScenario(time.Now(), time.Hour, loc, 1)
	b := a
	b.Seed = 2
	na, nb := a.Numbers(1000), b.Numbers(1000)
	if len(na) != 1000+a.Callers.BlockedNumbers || !slices.Equal(na, a.Numbers(1000)) {
		t.Fatalf("Numbers not reproducible")
	}
	seen := map[string]bool{}
	for _, n := range na {
		if len(n) != 13 || !strings.HasPrefix(n, "+393") || seen[n] {
			t.Fatalf("number %q malformed or repeated", n)
		}
		seen[n] = true
	}
	if slices.Equal(na[:10], nb[:10]) {
		t.Errorf("seeds 1 and 2 give the same numbers")
	}
}

// TestRunRefusesIncompleteEnv: Run names what is missing before it
// touches anything.
func TestRunRefusesIncompleteEnv(t *testing.T) {
	loc := rome(t)
	s := DefaultScenario(time.Date(2025, 7, 21, 8, 0, 0, 0, loc), time.Hour, loc, 1)
	srv := aritest.NewUnstartedServer(aritest.Config{})
	q, err := queue.NewMemory("1522")
	if err != nil {
		t.Fatal(err)
	}
	full := Env{Clock: clockwork.NewFakeClock(), Asterisk: srv, Queue: q, Records: memory.New()}
	tests := []struct {
		want string
		edit func(*Env, *Scenario)
	}{
		{"Env.Asterisk is nil", func(e *Env, _ *Scenario) { e.Asterisk = nil }},
		{"Env.Queue is nil", func(e *Env, _ *Scenario) { e.Queue = nil }},
		{"Env.Records is nil", func(e *Env, _ *Scenario) { e.Records = nil }},
		{"Callers.Blacklisted 0.178 without Env.Blacklist", func(*Env, *Scenario) {}},
		{"Env.Clock is nil", func(e *Env, s *Scenario) { e.Clock = nil; s.Callers.Blacklisted = 0 }},
		{"Welcome", func(_ *Env, s *Scenario) { s.Welcome = 0 }},
	}
	for _, tt := range tests {
		e, sc := full, s
		tt.edit(&e, &sc)
		if _, err := Run(context.Background(), e, sc); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Run() = %v, want an error with %q", err, tt.want)
		}
	}
}
