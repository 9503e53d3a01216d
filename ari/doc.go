// Package ari is the helpline's client for the Asterisk REST Interface
// (ARI): the REST calls that drive channels and bridges, and the event
// WebSocket that reports what callers and softphones do.
//
// We write our own instead of using github.com/CyCoreSystems/ari/v5
// because the module proxy refuses that module, and because we need less
// and stricter: a few dozen calls, typed errors callers can branch on, and
// an event stream that loses nothing and says so when it cannot help it.
//
// The package provides:
//
//   - Typed models and events generated from Asterisk's own Swagger files
//     (models_gen.go, events_gen.go, by ari/internal/gen through go
//     generate). Required fields are values; optional numbers and booleans
//     are pointers, because absence matters: a SIP BYE gives a
//     ChannelHangupRequest with no cause, which is not cause 0. Time reads
//     Asterisk's 2026-11-23T14:49:37.617+0000 as well as RFC 3339.
//   - DecodeEvent, which never drops a message: a type the schema does not
//     list becomes an *UnknownEvent carrying the raw JSON; a message that is
//     not an event is a *DecodeError naming the problem.
//   - Client, a REST client shaped like http.Client.Do: context first,
//     one method per ARI route the call flow uses (Client.Channels,
//     Bridges, Playbacks, Recordings, Applications, Asterisk, Endpoints,
//     DeviceStates), and Do for any other route.
//   - Events, the event WebSocket of one Stasis application, which redials
//     by itself and fans events out to Subscriptions.
//
// # Call protocol
//
// A REST call returns nil, an *Error when Asterisk answered with a non-2xx
// status, or a *TransportError when no usable answer came back (refused
// connection, timeout, cancelled context, unreadable body). The two are
// different on purpose: a refusal means the call is in a state Asterisk
// will not accept (the caller hung up: ErrNotFound; not in Stasis:
// ErrConflict), a transport failure means we do not know what happened.
//
//	err := client.Channels().Answer(ctx, id)
//	switch {
//	case errors.Is(err, ari.ErrNotFound):
//		// the caller is gone; the StasisEnd event will follow
//	case err != nil:
//		// *ari.TransportError or another refusal
//	}
//
// Events usually arrive before the response of the request that caused
// them (ChannelStateChange Up before the 204 of /answer), so code must
// not assume the opposite order. Names with a "/" (recordings in folders)
// are percent-encoded as a single path segment, the only form Asterisk
// routes.
//
// # Event delivery and overflow policy
//
// Events has one reader goroutine per socket. It decodes each message and
// queues it, in arrival order, for every Subscription that wants it:
// SubscribeAll gets everything, Subscribe(ids...) gets the events whose
// Refs name one of the ids (a channel's subscription also gets the
// playbacks and recordings targeting that channel). Every subscription
// has its own unbounded queue, drained into its channel by its own
// goroutine, so one slow consumer never delays the others nor the socket,
// and no event is dropped silently. The cost is memory: the queued total
// is exposed (EventStats.Backlog, helpline_ari_subscription_backlog),
// a warning is logged at 1024 queued events and at every doubling, and
// EventsOptions.MaxBacklog can cut a runaway subscriber off: it then
// receives what was queued, its channel closes and Err reports
// ErrSubscriptionOverflow, which is counted and logged. Blocking the
// reader instead would stall every call on the switchboard behind one
// stuck goroutine.
//
// A call's handler must not miss the events between the StasisStart it
// read from SubscribeAll and its own Subscribe. SubscribeSince(ss, id)
// replays them from a short history, atomically with subscribing.
// Messages that fail to decode are delivered as *InvalidEvent and counted;
// the connection keeps going.
//
// # Reconnection
//
// When the socket is lost (error, close, unanswered ping) Events redials
// after EventsOptions.Backoff(attempt), by default exponential with jitter
// between 100 ms and 10 s; a socket that lived at least 5 s resets the
// attempt count. Asterisk replays nothing after a reconnect: events while
// disconnected are lost, while the calls stay in Stasis. So after every
// reconnect Events emits a synthetic *Reconnected to every subscription,
// and the application reconciles with GET /channels (or the channel_ids of
// GET /applications/{app}). At start-up, WaitConnected first and list the
// channels second, for the same reason. If Asterisk sends
// ApplicationReplaced (another client opened the same app), Events stops
// redialling: two nodes must not take the app from each other in a loop.
package ari

//go:generate go run ./internal/gen
