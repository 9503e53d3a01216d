package demo

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
)

var t0 = time.Date(2025, 7, 21, 8, 0, 0, 0, time.UTC)

// TestDriverPacesAtSpeed: at speed 10 a one-second step waits for 100 ms
// of real time; a driver that fell behind does not wait; cancelling the
// context stops a wait.
func TestDriverPacesAtSpeed(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sim, wall := clockwork.NewFakeClockAt(t0), clockwork.NewFakeClock()
	d := NewDriver(sim, DriverOptions{Speed: 10, Step: time.Second, Real: wall})
	done := make(chan error, 1)
	go func() { done <- d.Advance(ctx) }()
	if err := wall.BlockUntilContext(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if !sim.Now().Equal(t0) {
		t.Fatalf("clock moved to %v before its real time", sim.Now())
	}
	wall.Advance(99 * time.Millisecond)
	select {
	case <-done:
		t.Fatal("step taken 1 ms early")
	default:
	}
	wall.Advance(time.Millisecond)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := sim.Since(t0); got != time.Second {
		t.Fatalf("clock moved %v, want one step", got)
	}
	// Behind by 900 ms of real time: the next step is due already.
	wall.Advance(time.Second)
	if err := d.Advance(ctx); err != nil || sim.Since(t0) != 2*time.Second {
		t.Fatalf("late step: %v, clock at +%v", err, sim.Since(t0))
	}
	// Far behind (5 s): step 3 is taken at once, and the pace restarts
	// from there instead of rushing: step 4 waits its 100 ms again.
	wall.Advance(5 * time.Second)
	if err := d.Advance(ctx); err != nil || sim.Since(t0) != 3*time.Second {
		t.Fatalf("step after a stall: %v, clock at +%v", err, sim.Since(t0))
	}
	go func() { done <- d.Advance(ctx) }()
	if err := wall.BlockUntilContext(ctx, 1); err != nil {
		t.Fatal(err)
	}
	wall.Advance(100 * time.Millisecond)
	if err := <-done; err != nil || sim.Since(t0) != 4*time.Second {
		t.Fatalf("step 4: %v, clock at +%v", err, sim.Since(t0))
	}
	// Cancelling the context ends a wait without moving the clock.
	stop, cancelStep := context.WithCancel(ctx)
	go func() { done <- d.Advance(stop) }()
	if err := wall.BlockUntilContext(ctx, 1); err != nil {
		t.Fatal(err)
	}
	cancelStep()
	if err := <-done; !errors.Is(err, context.Canceled) || sim.Since(t0) != 4*time.Second {
		t.Fatalf("cancelled step: %v, clock at +%v", err, sim.Since(t0))
	}
}

// TestDriverWaitsForQuiet: a step is taken only once the meter shows
// nothing in flight and no movement twice in a row; a meter that never
// settles holds a step for MaxSettle only.
func TestDriverWaitsForQuiet(t *testing.T) {
	ctx := context.Background()
	sim := clockwork.NewFakeClockAt(t0)
	looks := 0
	busyFor := 4
	meter := MeterFunc(func() (uint64, int64) {
		looks++
		if looks <= busyFor {
			return uint64(looks), 1
		}
		return 99, 0
	})
	d := NewDriver(sim, DriverOptions{Step: time.Second, Meter: meter})
	if err := d.Advance(ctx); err != nil {
		t.Fatal(err)
	}
	// 4 busy looks, then (99, 0) three times: the first differs from the
	// last busy one, the next two are the quiet pair.
	if looks != busyFor+3 || sim.Since(t0) != time.Second {
		t.Errorf("%d looks, clock at +%v; want 7 looks and one step", looks, sim.Since(t0))
	}

	// Quiet counters, but bytes waiting in a socket twice: the step
	// waits until nothing is pending.
	pm := &pendingMeter{pending: 2}
	d = NewDriver(sim, DriverOptions{Step: time.Second, Meter: pm})
	if err := d.Advance(ctx); err != nil || pm.pending != -1 || sim.Since(t0) != 2*time.Second {
		t.Errorf("pending meter: %v, %d asks left, clock at +%v; want one step after the socket emptied", err, pm.pending, sim.Since(t0))
	}

	always := MeterFunc(func() (uint64, int64) { return 1, 1 })
	d = NewDriver(sim, DriverOptions{Step: time.Second, Meter: always, MaxSettle: time.Millisecond})
	if err := d.Advance(ctx); err != nil || sim.Since(t0) != 3*time.Second {
		t.Errorf("busy meter: %v, clock at +%v", err, sim.Since(t0))
	}
}

// TestDriverUntil: Until steps until the condition holds, or gives up
// after the limit of simulated time.
func TestDriverUntil(t *testing.T) {
	ctx := context.Background()
	sim := clockwork.NewFakeClockAt(t0)
	d := NewDriver(sim, DriverOptions{})
	ok, err := d.Until(ctx, time.Minute, func() bool { return sim.Since(t0) >= 5*time.Second })
	if !ok || err != nil || sim.Since(t0) != 5*time.Second {
		t.Errorf("Until = %v, %v at +%v; want true at +5s", ok, err, sim.Since(t0))
	}
	ok, err = d.Until(ctx, 3*time.Second, func() bool { return false })
	if ok || err != nil || sim.Since(t0) != 8*time.Second {
		t.Errorf("Until = %v, %v at +%v; want false after 3s more", ok, err, sim.Since(t0))
	}
}

// pendingMeter has quiet counters and reports bytes pending for its
// first asks.
type pendingMeter struct{ pending int }

func (p *pendingMeter) Activity() (uint64, int64) { return 7, 0 }

func (p *pendingMeter) Pending() bool {
	p.pending--
	return p.pending >= 0
}
