package ariapp

import (
	"context"
	"errors"
	"fmt"

	"github.com/helpline-it/helpline/ari"
)

// Orphan is a channel of the app that this process does not know: found
// by the reconciliation at start (calls a previous process left in
// Stasis) or after an event WebSocket reconnect. The Adopter decides what
// becomes of it, with the methods below.
type Orphan struct {
	// Channel is the channel as GET /channels/{id} returned it. Its
	// Caller.Number is the caller's raw number: pass it on, never log it.
	Channel ari.Channel
	// Args are its Stasis arguments, when InStasis.
	Args []string
	// InStasis reports whether it is in the app's Stasis (else it is a
	// channel the app originated, still ringing or not yet in Stasis).
	InStasis bool
	// Kind is "inbound" (a caller), "operator" (a softphone dialling in)
	// or "leg" (an operator leg: originated, possibly still ringing).
	Kind string
	// Operator is the operator id of an operator or leg channel.
	Operator string
	// Legs are, for a caller, the operator legs in Stasis that a previous
	// process originated for it (Stasis args operator,<id>,<this call>):
	// Resume takes them over with the call (a talk goes on). They are not
	// offered to the Adopter on their own.
	Legs []ari.Channel

	app *App
}

// Adopter decides about Orphans. Adopt must not block for long: it runs
// on the app's event loop (the methods of Orphan that start a call return
// at once).
type Adopter interface {
	Adopt(ctx context.Context, o *Orphan)
}

// AdopterFunc adapts a function to Adopter.
type AdopterFunc func(ctx context.Context, o *Orphan)

// Adopt calls f.
func (f AdopterFunc) Adopt(ctx context.Context, o *Orphan) { f(ctx, o) }

// DefaultAdopter resumes callers (Orphan.Resume: every state, with the
// Flow's Readopt), hands operators' own calls to the OperatorHandler and
// hangs up operator legs that belong to no re-adopted caller (ringing
// ones included: the call is offered again). It is the seam of the restart story: a deployment that
// wants another policy (e.g. leave everything to a supervisor) passes its
// own Adopter.
var DefaultAdopter Adopter = AdopterFunc(func(ctx context.Context, o *Orphan) {
	var err error
	switch {
	case o.InStasis && o.Kind == string(kindInbound):
		err = o.Resume()
	case o.InStasis && o.Kind == string(kindOperator):
		err = o.HandOver()
	default:
		err = o.Hangup(ctx)
	}
	if err != nil {
		o.app.log.Warn().Err(err).Str("channel", o.Channel.ID).Msg("re-adoption failed")
	}
})

// ErrNotAccepting is returned by Orphan's methods while the app stops.
var ErrNotAccepting = errors.New("ariapp: the app is stopping and takes no call")

// take subscribes to the orphan and registers it as a call in progress.
func (o *Orphan) take(k kind) (*Call, error) {
	if !o.InStasis {
		return nil, fmt.Errorf("ariapp: channel %s is not in Stasis", o.Channel.ID)
	}
	a := o.app
	sub, err := a.events.Subscribe(o.Channel.ID)
	if err != nil {
		return nil, fmt.Errorf("ariapp: adopt %s: %w", o.Channel.ID, err)
	}
	c := a.newChannel(o.Channel.ID, k)
	c.created = true
	c.snap = o.Channel
	c.start(sub)
	if !a.take(c) {
		c.release()
		return nil, ErrNotAccepting
	}
	// Events before the subscription are lost: make sure it is still
	// there (a hang-up in between would otherwise go unnoticed).
	go c.recheck()
	return &Call{c}, nil
}

// Resume takes a caller back, with its Legs: the Flow's Readopt when it
// has one (any state: see ivr.Flow.Readopt), else its Resume (the queue
// only), else, or when the queue does not know the call, the flow from
// the start. It returns once the call is taken; the REST reads that find
// where the call was run on the call's own goroutine.
func (o *Orphan) Resume() error {
	c, err := o.take(kindInbound)
	if err != nil {
		return err
	}
	go o.app.runInbound(c, o.Channel.Caller.Number, o)
	return nil
}

// HandOver hands an operator's own call to the OperatorHandler.
func (o *Orphan) HandOver() error {
	c, err := o.take(kindOperator)
	if err != nil {
		return err
	}
	go o.app.runOperator(c, o.Operator, o.Args)
	return nil
}

// Hangup hangs the channel up (an operator leg nobody will bridge), and
// its Legs with it.
func (o *Orphan) Hangup(ctx context.Context) error {
	rctx, cancel := o.app.requestContext(ctx)
	defer cancel()
	var errs []error
	for _, id := range append([]string{o.Channel.ID}, legIDs(o.Legs)...) {
		err := o.app.client.Channels().Hangup(rctx, id, ari.HangupNormal)
		if err != nil && !errors.Is(err, ari.ErrNotFound) {
			errs = append(errs, fmt.Errorf("ariapp: hang up orphan %s: %w", id, err))
		}
	}
	return errors.Join(errs...)
}

func legIDs(legs []ari.Channel) []string {
	ids := make([]string, len(legs))
	for i, l := range legs {
		ids[i] = l.ID
	}
	return ids
}
