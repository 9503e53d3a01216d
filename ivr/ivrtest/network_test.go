package ivrtest_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/helpline-it/helpline/ivr"
	"github.com/helpline-it/helpline/ivr/ivrtest"
)

func setup(t *testing.T) (context.Context, *clockwork.FakeClock, *ivrtest.Network) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 23, 14, 0, 0, 0, time.UTC))
	return ctx, clock, ivrtest.New(clock)
}

func TestPhones(t *testing.T) {
	tests := []struct {
		name  string
		phone ivrtest.Phone
		after time.Duration // clock advance needed
		cause int           // answered: -1
	}{
		{"answers at once", ivrtest.Answers(0), 0, -1},
		{"answers after 3s", ivrtest.Answers(3 * time.Second), 3 * time.Second, -1},
		{"answers too late", ivrtest.Answers(30 * time.Second), 20 * time.Second, ivr.CauseNoAnswer},
		{"never answers", ivrtest.NeverAnswers(), 20 * time.Second, ivr.CauseNoAnswer},
		{"busy", ivrtest.Rejects(ivr.CauseBusy, 2*time.Second), 2 * time.Second, ivr.CauseBusy},
		{"unreachable", ivrtest.Unreachable(), 0, ivr.CauseUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, clock, n := setup(t)
			n.SetPhone("PJSIP/op1", tt.phone)
			c := n.Dial("+390612345678")
			type res struct {
				leg ivr.Leg
				err error
			}
			done := make(chan res, 1)
			go func() {
				leg, err := c.Originate(ctx, ivr.OriginateRequest{Endpoint: "PJSIP/op1", Timeout: 20 * time.Second})
				done <- res{leg, err}
			}()
			if tt.after > 0 {
				if err := clock.BlockUntilContext(ctx, 1); err != nil {
					t.Fatal(err)
				}
				clock.Advance(tt.after)
			}
			r := <-done
			if tt.cause == -1 {
				if r.err != nil || r.leg == nil {
					t.Fatalf("Originate = %v, %v; want a leg", r.leg, r.err)
				}
				if got := n.Leaks(); len(got) != 1 {
					t.Errorf("an answered leg is a resource until hung up: leaks %q", got)
				}
				if err := r.leg.Hangup(ctx, 16); err != nil {
					t.Fatal(err)
				}
				if !errors.Is(r.leg.Hangup(ctx, 16), ivr.ErrHangup) {
					t.Error("second hang-up of a leg: want ErrHangup")
				}
			} else {
				var oe *ivr.OriginateError
				if !errors.As(r.err, &oe) || oe.Cause != tt.cause {
					t.Fatalf("Originate error %v; want cause %d", r.err, tt.cause)
				}
			}
			if got := n.Leaks(); len(got) != 0 {
				t.Errorf("leaks %q", got)
			}
			if n.Rings("PJSIP/op1") != 1 {
				t.Errorf("rings = %d", n.Rings("PJSIP/op1"))
			}
		})
	}
}

func TestCancelledOriginateLeavesNoLeg(t *testing.T) {
	ctx, clock, n := setup(t)
	n.SetPhone("PJSIP/op1", ivrtest.NeverAnswers())
	c := n.Dial("+390612345678")
	octx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		_, err := c.Originate(octx, ivr.OriginateRequest{Endpoint: "PJSIP/op1", Timeout: 20 * time.Second})
		done <- err
	}()
	if err := clock.BlockUntilContext(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if got := n.Leaks(); len(got) != 1 {
		t.Fatalf("a ringing leg must show as a leak: %q", got)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Originate = %v; want context.Canceled", err)
	}
	if got := n.Leaks(); len(got) != 0 {
		t.Errorf("leaks %q", got)
	}
}

func TestPlayAndBargeScript(t *testing.T) {
	ctx, clock, n := setup(t)
	welcome := ivr.Sound("welcome")
	n.SetDuration(welcome, 10*time.Second)
	c := n.Dial("+390612345678", ivrtest.OnPlay(welcome, ivrtest.Press("2x")))
	pctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- c.Play(pctx, "it", welcome) }()
	var keys []ivr.Digit
	for range 2 {
		keys = append(keys, <-c.DTMF())
	}
	if !slices.Equal(keys, []ivr.Digit{'2', 'x'}) {
		t.Errorf("keys %q; the network delivers what is pressed, garbage included", keys)
	}
	if !c.Playing() {
		t.Error("the prompt should still be playing")
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Play = %v", err)
	}
	// A full play runs on the clock.
	done2 := make(chan error, 1)
	go func() { done2 <- c.Play(ctx, "it", welcome) }()
	if err := clock.BlockUntilContext(ctx, 1); err != nil {
		t.Fatal(err)
	}
	clock.Advance(10 * time.Second)
	if err := <-done2; err != nil {
		t.Errorf("Play = %v", err)
	}
	want := []string{"play it sound:welcome", "stop play", "play it sound:welcome"}
	if got := c.Requests(); !slices.Equal(got, want) {
		t.Errorf("requests %q; want %q", got, want)
	}
	c.HangUp(16)
	if err := c.Play(ctx, "it", welcome); !errors.Is(err, ivr.ErrHangup) {
		t.Errorf("Play on a hung-up call = %v; want ErrHangup", err)
	}
}

func TestRecordEndsOnTheTerminatorAfterDeliveringIt(t *testing.T) {
	ctx, clock, n := setup(t)
	c := n.Dial("+390612345678")
	done := make(chan ivr.Recording, 1)
	go func() {
		rec, err := c.Record(ctx, ivr.RecordRequest{Name: "vm-1", Format: "wav", MaxDuration: time.Minute, TerminateOn: '#'})
		if err != nil {
			t.Error(err)
		}
		done <- rec
	}()
	if err := clock.BlockUntilContext(ctx, 1); err != nil {
		t.Fatal(err)
	}
	clock.Advance(12 * time.Second)
	c.Press("#")
	rec := <-done
	if rec.Duration != 12*time.Second || rec.Name != "vm-1" {
		t.Errorf("recording %+v", rec)
	}
	if d := <-c.DTMF(); d != '#' {
		t.Errorf("the terminator was not delivered as a key: %q", d)
	}
	if got, ok := n.Recording("vm-1"); !ok || got != rec {
		t.Errorf("stored %+v %v", got, ok)
	}
}

func TestFailInjectionAndDroppedKeys(t *testing.T) {
	ctx, _, n := setup(t)
	c := n.Dial("+390612345678")
	c.Fail("answer", nil)
	if err := c.Answer(ctx); !errors.Is(err, ivrtest.ErrEngine) {
		t.Errorf("first Answer = %v; want ErrEngine", err)
	}
	if err := c.Answer(ctx); err != nil || !c.Answered() {
		t.Errorf("second Answer = %v", err)
	}
	for range 40 {
		c.Press("1")
	}
	if got := n.DroppedDigits(); got != 8 {
		t.Errorf("dropped %d keys on a 32-key buffer; want 8", got)
	}
}
