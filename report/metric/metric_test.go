package metric_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/helpline-it/helpline/cdr"
	"github.com/helpline-it/helpline/report/metric"
)

var t0 = time.Date(2025, 6, 2, 8, 0, 0, 0, time.UTC)

func answered(wait, talk time.Duration) *cdr.Record {
	return &cdr.Record{
		Direction: cdr.Inbound, Outcome: cdr.Answered,
		ArrivedAt: t0, QueuedAt: t0.Add(10 * time.Second),
		ConnectedAt: t0.Add(10*time.Second + wait),
		EndedAt:     t0.Add(10*time.Second + wait + talk),
	}
}

func TestWaitAndTalk(t *testing.T) {
	tests := []struct {
		name           string
		r              *cdr.Record
		wait, talk     time.Duration
		waitOK, talkOK bool
		offered        bool
		within20       bool
	}{
		{"answered", answered(20*time.Second, 5*time.Minute), 20 * time.Second, 5 * time.Minute, true, true, true, true},
		{"answered just late", answered(20*time.Second+time.Millisecond, time.Second), 20*time.Second + time.Millisecond, time.Second, true, true, true, false},
		{"abandoned", &cdr.Record{Direction: cdr.Inbound, Outcome: cdr.Abandoned, QueuedAt: t0, EndedAt: t0.Add(time.Minute)}, 0, 0, false, false, true, false},
		{"blacklisted", &cdr.Record{Direction: cdr.Inbound, Outcome: cdr.Blacklisted, EndedAt: t0}, 0, 0, false, false, false, false},
		{"welcome hangup", &cdr.Record{Direction: cdr.Inbound, Outcome: cdr.WelcomeHangup, EndedAt: t0}, 0, 0, false, false, false, false},
		{"outbound answered", &cdr.Record{Direction: cdr.Outbound, Outcome: cdr.Answered, ArrivedAt: t0, ConnectedAt: t0.Add(5 * time.Second), EndedAt: t0.Add(65 * time.Second)}, 0, time.Minute, false, true, false, false},
		{"clock skew", &cdr.Record{Direction: cdr.Inbound, Outcome: cdr.Answered, QueuedAt: t0, ConnectedAt: t0.Add(-time.Second), EndedAt: t0.Add(-2 * time.Second)}, 0, 0, true, true, true, true},
		{"answered without queue time", &cdr.Record{Direction: cdr.Inbound, Outcome: cdr.Answered, ConnectedAt: t0, EndedAt: t0.Add(time.Second)}, 0, time.Second, false, true, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w, ok := metric.Wait(tc.r)
			if w != tc.wait || ok != tc.waitOK {
				t.Errorf("Wait = %v,%v; want %v,%v", w, ok, tc.wait, tc.waitOK)
			}
			d, ok := metric.Talk(tc.r)
			if d != tc.talk || ok != tc.talkOK {
				t.Errorf("Talk = %v,%v; want %v,%v", d, ok, tc.talk, tc.talkOK)
			}
			if got := metric.Offered(tc.r); got != tc.offered {
				t.Errorf("Offered = %v; want %v", got, tc.offered)
			}
			if got := metric.AnsweredWithin(tc.r, metric.ShortThreshold); got != tc.within20 {
				t.Errorf("AnsweredWithin(20s) = %v; want %v", got, tc.within20)
			}
		})
	}
}

func TestPercent(t *testing.T) {
	tests := []struct {
		part, whole int64
		want        float64
		ok          bool
	}{
		{908, 1382, 65.7, true},
		{1, 3, 33.3, true},
		{2, 3, 66.7, true},
		{1, 2000, 0.1, true}, // 0.05 rounds half up
		{1, 2001, 0, true},
		{0, 0, 0, false},
		{5, 5, 100, true},
	}
	for _, tc := range tests {
		got, ok := metric.Percent(tc.part, tc.whole)
		if got != tc.want || ok != tc.ok {
			t.Errorf("Percent(%d,%d) = %v,%v; want %v,%v", tc.part, tc.whole, got, ok, tc.want, tc.ok)
		}
	}
}

func TestPercentile(t *testing.T) {
	s := func(secs ...int) []time.Duration {
		out := make([]time.Duration, len(secs))
		for i, v := range secs {
			out[i] = time.Duration(v) * time.Second
		}
		return out
	}
	tests := []struct {
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{s(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 90, 9 * time.Second},
		{s(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11), 90, 10 * time.Second},
		{s(7), 90, 7 * time.Second},
		{s(1, 2), 50, time.Second},
		{s(1, 2), 100, 2 * time.Second},
		{nil, 90, 0},
	}
	for _, tc := range tests {
		if got := metric.Percentile(tc.sorted, tc.p); got != tc.want {
			t.Errorf("Percentile(%v, %v) = %v; want %v", tc.sorted, tc.p, got, tc.want)
		}
	}
}

func TestQueueStats(t *testing.T) {
	var s metric.QueueStats
	for _, w := range []int{5, 20, 21, 60, 61, 30, 10, 15, 45, 90} {
		s.Add(answered(time.Duration(w)*time.Second, time.Minute))
	}
	s.Add(&cdr.Record{Direction: cdr.Inbound, Outcome: cdr.Abandoned})
	s.Add(&cdr.Record{Direction: cdr.Inbound, Outcome: cdr.Voicemail})
	s.Add(&cdr.Record{Direction: cdr.Inbound, Outcome: cdr.Blacklisted})
	s.Add(&cdr.Record{Direction: cdr.Outbound, Outcome: cdr.Answered})

	if s.Offered != 12 || s.Answered != 10 || s.Abandoned != 1 || s.Voicemail != 1 {
		t.Fatalf("counts = %+v", s)
	}
	if s.WithinShort != 4 || s.WithinLong != 8 {
		t.Errorf("within = %d/%d; want 4/8", s.WithinShort, s.WithinLong)
	}
	if pct, _ := s.ShareWithinShort(); pct != 33.3 {
		t.Errorf("share within 20 s = %v; want 33.3 (4 of 12 offered)", pct)
	}
	if m, _ := s.MeanWait(); m != 35700*time.Millisecond {
		t.Errorf("mean wait = %v; want 35.7s", m)
	}
	if p, _ := s.WaitPercentile(90); p != 61*time.Second {
		t.Errorf("p90 = %v; want 61s", p)
	}
	var merged metric.QueueStats
	merged.Merge(&s)
	merged.AddWait(100 * time.Second)
	if p, _ := merged.WaitPercentile(100); p != 100*time.Second {
		t.Errorf("merged p100 = %v; want 100s", p)
	}
	var empty metric.QueueStats
	if _, ok := empty.MeanWait(); ok {
		t.Error("MeanWait of empty stats is ok")
	}
	if _, ok := empty.ShareWithinLong(); ok {
		t.Error("ShareWithinLong of empty stats is ok")
	}
}

func ExampleQueueStats() {
	var s metric.QueueStats
	s.Add(answered(12*time.Second, 3*time.Minute))
	s.Add(answered(48*time.Second, 9*time.Minute))
	s.Add(&cdr.Record{Direction: cdr.Inbound, Outcome: cdr.Abandoned})
	mean, _ := s.MeanWait()
	in20, _ := s.ShareWithinShort()
	in60, _ := s.ShareWithinLong()
	fmt.Println(s.Offered, mean, in20, in60)
	// Output: 3 30s 33.3 66.7
}
