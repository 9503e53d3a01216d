package ari_test

import (
	"fmt"

	"github.com/helpline-it/helpline/ari"
)

// A far-end SIP BYE gives a ChannelHangupRequest without a cause: the
// pointer fields tell "absent" from cause 0.
func ExampleDecodeEvent() {
	msg := []byte(`{"type":"ChannelHangupRequest","timestamp":"2026-11-23T15:03:02.855+0000",` +
		`"channel":{"id":"1795446175.229","name":"PJSIP/sipp-00000000","state":"Up"},` +
		`"asterisk_id":"02:fc:00:00:00:01","application":"helpline"}`)
	ev, err := ari.DecodeEvent(msg)
	if err != nil {
		fmt.Println(err)
		return
	}
	switch e := ev.(type) {
	case *ari.ChannelHangupRequest:
		fmt.Println(e.Type, e.Channel.ID, "cause present:", e.Cause != nil)
		fmt.Println("at", e.Timestamp)
		fmt.Println("concerns", e.Refs())
	}
	// Output:
	// ChannelHangupRequest 1795446175.229 cause present: false
	// at 2026-11-23T15:03:02.855+0000
	// concerns [channel:1795446175.229]
}

// Messages that cannot be events come back as a *DecodeError naming the
// problem; types Asterisk may add later come back as *UnknownEvent.
func ExampleDecodeEvent_errors() {
	_, err := ari.DecodeEvent([]byte(`{"type":"ChannelDestroyed","cause":"sixteen"}`))
	fmt.Println(err)
	ev, _ := ari.DecodeEvent([]byte(`{"type":"ChannelTeleported","application":"helpline"}`))
	fmt.Printf("%T %s\n", ev, ev.EventType())
	// Output:
	// ari: malformed event "ChannelDestroyed": json: cannot unmarshal string into Go struct field ChannelDestroyed.cause of type int
	// *ari.UnknownEvent ChannelTeleported
}
