package report

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/helpline-it/helpline/cdr"
)

func call(id string, at time.Time, outcome cdr.Outcome) cdr.Record {
	r := cdr.Record{ID: id, Direction: cdr.Inbound, Outcome: outcome, ArrivedAt: at, EndedAt: at.Add(time.Minute)}
	if outcome == cdr.Answered {
		r.QueuedAt = at.Add(5 * time.Second)
		r.ConnectedAt = at.Add(25 * time.Second)
		r.Language = "it"
		r.Operator = "op1"
	}
	return r
}

// TestWeekdayHourDST feeds one call at half past every UTC hour of the
// last Sundays of March and October 2025 and checks where the local
// clock puts them in Rome: on 30 March 02:00–02:59 does not exist, on
// 26 October it happens twice.
func TestWeekdayHourDST(t *testing.T) {
	loc := rome(t)
	tests := []struct {
		name string
		day  time.Time // the Sunday, UTC midnight
		// local hours of the Sunday that get 0 or 2 calls instead of 1
		want map[int]int64
	}{
		{"spring forward", time.Date(2025, 3, 30, 0, 0, 0, 0, time.UTC), map[int]int64{2: 0}},
		{"fall back", time.Date(2025, 10, 26, 0, 0, 0, 0, time.UTC), map[int]int64{2: 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// Period: the local Saturday to the local Tuesday.
			sat := tc.day.AddDate(0, 0, -1)
			p, err := NewPeriod(sat.Format(dateLayout), tc.day.AddDate(0, 0, 2).Format(dateLayout), loc)
			if err != nil {
				t.Fatal(err)
			}
			// Calls at hh:30 UTC from local Sunday 00:00 to local Monday 00:00.
			start := time.Date(tc.day.Year(), tc.day.Month(), tc.day.Day(), 0, 0, 0, 0, loc)
			end := start.AddDate(0, 0, 1)
			var recs []cdr.Record
			for at := start.Add(30 * time.Minute); at.Before(end); at = at.Add(time.Hour) {
				recs = append(recs, call(fmt.Sprint(len(recs)), at.UTC(), cdr.WelcomeHangup))
			}
			wantCalls := int(end.Sub(start).Hours())
			if len(recs) != wantCalls {
				t.Fatalf("made %d calls; want %d (one per real hour)", len(recs), wantCalls)
			}
			res := Build(p, "", each(recs))
			const sunday = 6
			for h := range 24 {
				want, odd := tc.want[h]
				if !odd {
					want = 1
				}
				if got := res.Weekday[sunday][h]; got != want {
					t.Errorf("Sunday %d:00 = %d; want %d", h, got, want)
				}
			}
			if got := res.Weekday.DayTotal(sunday); got != int64(wantCalls) {
				t.Errorf("Sunday total = %d; want %d", got, wantCalls)
			}
			if got := res.Weekday.Total(); got != res.Inbound.Total || got != int64(wantCalls) {
				t.Errorf("table total %d, inbound total %d; want %d", got, res.Inbound.Total, wantCalls)
			}
		})
	}
}

// TestZoneCacheMatchesTimeIn checks the cached conversion against
// time.Time.In over two years, every 17 minutes 13 seconds, in both
// directions of time (the accumulator accepts records in any order).
func TestZoneCacheMatchesTimeIn(t *testing.T) {
	for _, name := range []string{"Europe/Rome", "America/Santiago", "Australia/Lord_Howe", "UTC", "Asia/Kathmandu"} {
		loc, err := time.LoadLocation(name)
		if err != nil {
			t.Fatal(err)
		}
		z := zoneCache{loc: loc}
		from := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
		to := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		step := 17*time.Minute + 13*time.Second
		check := func(at time.Time) {
			lt := at.In(loc)
			wantDay, wantHour := (int(lt.Weekday())+6)%7, lt.Hour()
			day, hour := z.weekdayHour(at)
			if day != wantDay || hour != wantHour {
				t.Fatalf("%s %s: got day %d hour %d; want %d %d", name, at, day, hour, wantDay, wantHour)
			}
		}
		for at := from; at.Before(to); at = at.Add(step) {
			check(at)
		}
		for at := to; at.After(from); at = at.Add(-step) {
			check(at)
		}
	}
}

func TestBuildSkipsAndCounts(t *testing.T) {
	loc := rome(t)
	p, err := NewPeriod("2025-06-01", "2025-06-08", loc)
	if err != nil {
		t.Fatal(err)
	}
	mon := time.Date(2025, 6, 2, 10, 0, 0, 0, loc)
	recs := []cdr.Record{
		call("1", mon, cdr.Answered),
		call("2", mon, cdr.Abandoned),
		call("3", mon, cdr.Blacklisted),
		call("4", mon, "exploded"),                                       // unknown outcome
		call("5", time.Date(2025, 6, 1, 0, 0, 0, 0, loc), cdr.Voicemail), // first instant: in
		call("6", time.Date(2025, 6, 8, 0, 0, 0, 0, loc), cdr.Voicemail), // To: out
		call("7", time.Date(2025, 5, 31, 23, 59, 59, 0, loc), cdr.Voicemail),
		{ID: "8", Direction: "sideways", Outcome: cdr.Answered, ArrivedAt: mon},
		{ID: "9", Direction: cdr.Inbound, Outcome: cdr.Answered, ArrivedAt: mon, EndedAt: mon.Add(time.Minute)}, // no times
		{ID: "10", Direction: cdr.Outbound, Outcome: cdr.Failed, ArrivedAt: mon, Operator: "op2"},
		{ID: "11", Direction: cdr.Outbound, Outcome: cdr.Answered, ArrivedAt: mon, ConnectedAt: mon.Add(10 * time.Second), EndedAt: mon.Add(70 * time.Second), Operator: "op2"},
	}
	other := call("12", mon, cdr.Answered)
	other.Service = "unar"
	recs = append(recs, other)

	res := Build(p, "", each(recs))
	in := res.Inbound
	if in.Total != 6 || in.Answered != 3 || in.Abandoned != 1 || in.Blacklisted != 1 || in.Voicemail != 1 {
		t.Errorf("inbound = %+v", in)
	}
	want := Skipped{OutsidePeriod: 2, UnknownDirection: 1, UnknownOutcome: 1, AnsweredWithoutTimes: 1}
	if res.Skipped != want {
		t.Errorf("skipped = %+v; want %+v", res.Skipped, want)
	}
	if res.Outbound.Total != 2 || res.Outbound.Failed != 1 || res.Outbound.Talk != time.Minute || res.Outbound.AnsweredShare != 50 {
		t.Errorf("outbound = %+v", res.Outbound)
	}
	// Talk: two answered calls with times (60 s − 20 s each), averaged
	// over the three answered calls, as the report defines it.
	if res.Talk.Total != 70*time.Second || res.Talk.Calls != 3 {
		t.Errorf("talk = %+v", res.Talk)
	}
	if res.Wait.Calls != 2 || res.Wait.AverageSeconds != 20 {
		t.Errorf("wait = %+v", res.Wait)
	}

	// One service only.
	res = Build(p, "unar", each(recs))
	if res.Inbound.Total != 1 || res.Skipped.OtherService != 9 {
		t.Errorf("service unar: inbound %d, skipped %+v", res.Inbound.Total, res.Skipped)
	}
}

// TestRenderEmpty renders a period without calls in every format: no
// division by zero, unknown figures shown as n/d, shares all zero.
func TestRenderEmpty(t *testing.T) {
	p, err := NewPeriod("2025-06-01", "2025-09-01", rome(t))
	if err != nil {
		t.Fatal(err)
	}
	res := Build(p, "", each(nil))
	for _, lang := range []Lang{Italian, English} {
		var buf bytes.Buffer
		if err := WriteText(&buf, &res, lang); err != nil {
			t.Fatal(err)
		}
		na := newPrinter(lang).l.na
		if !strings.Contains(buf.String(), na) || strings.Contains(buf.String(), "NaN") {
			t.Errorf("%s text of an empty period:\n%s", lang, buf.String())
		}
		buf.Reset()
		if err := WriteHTML(&buf, &res, lang); err != nil {
			t.Fatal(err)
		}
		c := countHTML(t, buf.Bytes())
		if c.slices != 0 || c.heatCells != 168 {
			t.Errorf("empty html: %d slices, %d heat cells", c.slices, c.heatCells)
		}
	}
	var buf bytes.Buffer
	if err := WriteJSON(&buf, &res); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`"average_seconds": null`, `"answered_share": null`, `"total": null`, `"change_percent": null`} {
		if !strings.Contains(buf.String(), s) {
			t.Errorf("empty JSON lacks %s:\n%s", s, buf.String())
		}
	}
}

// TestEngineRestartFootnote: calls that vanished with a restart of the
// switchboard are counted (unanswered ones among the unanswered) and the
// text report says so in a footnote, in both languages; without any, no
// footnote and no JSON field.
func TestEngineRestartFootnote(t *testing.T) {
	loc := rome(t)
	p, err := NewPeriod("2025-06-01", "2025-06-08", loc)
	if err != nil {
		t.Fatal(err)
	}
	mon := time.Date(2025, 6, 2, 10, 0, 0, 0, loc)
	lost := func(id string, o cdr.Outcome) cdr.Record {
		r := call(id, mon, o)
		r.Note = NoteEngineRestart + ": Asterisk restarted; the channel vanished with it"
		return r
	}
	recs := []cdr.Record{
		call("1", mon, cdr.Answered), call("2", mon, cdr.Unanswered),
		lost("3", cdr.Unanswered), lost("4", cdr.Unanswered), lost("5", cdr.Answered),
	}
	res := Build(p, "", each(recs))
	in := res.Inbound
	if in.Unanswered != 3 || in.Answered != 2 || in.EngineRestart != 3 || in.EngineRestartUnanswered != 2 {
		t.Errorf("inbound = %+v", in)
	}
	for lang, want := range map[Lang]string{
		Italian: "Nota: 3 chiamate sono cadute per un riavvio del centralino (Asterisk); 2, che non avevano ancora raggiunto un'operatrice, sono contate tra le non risposte",
		English: "Note: 3 calls were cut off by a restart of the switchboard (Asterisk); the 2 that had not reached an operator yet are counted as unanswered",
	} {
		var buf bytes.Buffer
		if err := WriteText(&buf, &res, lang); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(buf.String(), want) {
			t.Errorf("%s text lacks the footnote %q:\n%s", lang, want, buf.String())
		}
	}
	var buf bytes.Buffer
	if err := WriteHTML(&buf, &res, English); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "Note: 3 calls were cut off by a restart") {
		t.Errorf("HTML lacks the footnote")
	}
	buf.Reset()
	if err := WriteJSON(&buf, &res); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"engine_restart": 3`) || !strings.Contains(buf.String(), `"engine_restart_unanswered": 2`) {
		t.Errorf("JSON lacks the restart counts:\n%s", buf.String())
	}

	res = Build(p, "", each(recs[:2]))
	buf.Reset()
	if err := WriteText(&buf, &res, English); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "restart") {
		t.Errorf("footnote without any restart:\n%s", buf.String())
	}
	buf.Reset()
	if err := WriteHTML(&buf, &res, English); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "restart of the switchboard") {
		t.Errorf("HTML footnote without any restart")
	}
	buf.Reset()
	if err := WriteJSON(&buf, &res); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(buf.String(), "engine_restart") {
		t.Errorf("JSON restart field without any restart:\n%s", buf.String())
	}
}
