package demo

import (
	"context"
	"runtime"
	"time"

	"github.com/jonboulle/clockwork"
)

// Meter says whether the simulated switchboard is still at work. The
// driver waits for it to be quiet before each step of the clock, so that
// a slow machine slows the simulation down instead of letting simulated
// time run ahead of the calls (a caller would then "wait" minutes that
// were only milliseconds of HTTP latency).
type Meter interface {
	// Activity returns a counter that changes whenever work happens
	// (requests made, events read, commands sent, records written) and
	// how much work is in flight now.
	Activity() (moves uint64, inFlight int64)
}

// Pender is a Meter that can also tell work in flight that its counters
// cannot see (bytes waiting in a socket), at a higher cost: the Driver
// asks it last, once the counters are quiet. *Activity is one.
type Pender interface {
	Pending() bool
}

// MeterFunc adapts a function to Meter.
type MeterFunc func() (uint64, int64)

// Activity calls f.
func (f MeterFunc) Activity() (uint64, int64) { return f() }

// DriverOptions tune a Driver.
type DriverOptions struct {
	// Speed is simulated time per real time (600: ten simulated minutes a
	// real second). Zero runs as fast as the switchboard keeps up.
	Speed float64
	// Step is how far the clock moves at a time (default 250 ms): the
	// resolution of every simulated timer.
	Step time.Duration
	// Meter, when set, is waited on before every step.
	Meter Meter
	// Real is the clock that paces Speed (nil: the machine's).
	Real clockwork.Clock
	// MaxSettle bounds the wait for the meter to be quiet (default 2 s of
	// real time): a switchboard that never settles (a reconnect loop)
	// must not stop the simulation.
	MaxSettle time.Duration
	// NetPause, when positive, is a real-time pause before the last look
	// at a quiet meter, which lets frames in flight on loopback sockets
	// reach their readers: for a Meter that cannot see into sockets.
	// Activity with Dial does on Linux; elsewhere the default is 50 µs.
	NetPause time.Duration
}

// Driver moves a fake clock forward in steps, at a given speed, waiting
// for the switchboard to catch up between steps. One clock drives the
// emulated Asterisk, the call flow, the queue's times and the simulated
// people, so every timer in the system fires in the same order it would
// in real time.
type Driver struct {
	clock *clockwork.FakeClock
	o     DriverOptions

	started   bool
	realStart time.Time
	virtStart time.Time
}

// NewDriver returns a driver of clock.
func NewDriver(clock *clockwork.FakeClock, o DriverOptions) *Driver {
	if o.Step <= 0 {
		o.Step = 250 * time.Millisecond
	}
	if o.Real == nil {
		o.Real = clockwork.NewRealClock()
	}
	if o.MaxSettle <= 0 {
		o.MaxSettle = 2 * time.Second
	}
	if o.NetPause == 0 && !socketsVisible {
		o.NetPause = 50 * time.Microsecond
	}
	return &Driver{clock: clock, o: o}
}

// Clock is the driven clock.
func (d *Driver) Clock() *clockwork.FakeClock { return d.clock }

// Step is the driver's step.
func (d *Driver) Step() time.Duration { return d.o.Step }

// Advance lets the switchboard settle, waits until real time allows the
// next step at Speed, and moves the clock one step.
func (d *Driver) Advance(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	d.settle()
	if d.o.Speed > 0 {
		if !d.started {
			d.started, d.realStart, d.virtStart = true, d.o.Real.Now(), d.clock.Now()
		}
		virt := d.clock.Now().Add(d.o.Step).Sub(d.virtStart)
		due := d.realStart.Add(time.Duration(float64(virt) / d.o.Speed))
		if wait := due.Sub(d.o.Real.Now()); wait > 0 {
			select {
			case <-d.o.Real.After(wait):
			case <-ctx.Done():
				return ctx.Err()
			}
		} else if wait < -time.Second {
			// Far behind (a slow machine, a long settle): catch up by
			// moving the reference rather than rushing the next steps.
			d.realStart = d.realStart.Add(-wait)
		}
	}
	d.clock.Advance(d.o.Step)
	return nil
}

// Until advances the clock until done reports true, for at most limit of
// simulated time; it reports whether done did.
func (d *Driver) Until(ctx context.Context, limit time.Duration, done func() bool) (bool, error) {
	end := d.clock.Now().Add(limit)
	for {
		if done() {
			return true, nil
		}
		if !d.clock.Now().Before(end) {
			return false, nil
		}
		if err := d.Advance(ctx); err != nil {
			return false, err
		}
	}
}

// spinLooks is how many busy looks settle makes by yielding before it
// starts sleeping between looks.
const spinLooks = 50

// settle waits until the meter shows nothing in flight and no movement
// for two looks in a row (goroutines woken by the last step get the
// processor in between) and, if it is a Pender, nothing pending; with
// NetPause, once more after that pause.
func (d *Driver) settle() {
	runtime.Gosched()
	if d.o.Meter == nil {
		return
	}
	pender, _ := d.o.Meter.(Pender)
	deadline := time.Now().Add(d.o.MaxSettle)
	last, _ := d.o.Meter.Activity()
	quiet, busy := 0, 0
	polled := false
	for pause := time.Duration(0); ; {
		if pause > 0 {
			time.Sleep(pause) // real time: we wait for real work to finish
		} else {
			runtime.Gosched()
		}
		moves, inFlight := d.o.Meter.Activity()
		if inFlight == 0 && moves == last {
			quiet++
			switch {
			case quiet < 2:
			case pender != nil && pender.Pending():
				quiet = 0 // a frame on its way: let its reader run
			case polled || d.o.NetPause <= 0:
				return
			default:
				polled, quiet = true, 0
				pause = d.o.NetPause
			}
		} else {
			// Busy: yield to the goroutines at work (cheap, and they
			// usually finish within a few yields); sleep only when it
			// lasts, letting the process's threads and the network
			// poller run.
			quiet, polled = 0, false
			if busy++; busy > spinLooks {
				pause = min(max(pause*2, 20*time.Microsecond), time.Millisecond)
			}
		}
		last = moves
		if time.Now().After(deadline) {
			return
		}
	}
}
