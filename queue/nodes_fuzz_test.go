package queue_test

import (
	"testing"

	"github.com/helpline-it/helpline/queue"
)

// FuzzDecodeOffer: whatever a node's hand-over list holds, DecodeOffer
// either refuses it or returns an offer that survives a round trip.
func FuzzDecodeOffer(f *testing.F) {
	for _, s := range []string{
		`{"call":"c1","op":"op1","ep":"PJSIP/op1","lang":"it","node":"node2","exp":1795446000123}`,
		`{"call":"c1","op":"op1","exp":1}`,
		`{"call":"","op":"op1","exp":1}`,
		`{"call":"c","op":"o","exp":-5}`,
		`{"call":"c","op":"o","exp":1e30}`,
		`null`, `[]`, `{"call":1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		o, err := queue.DecodeOffer(b)
		if err != nil {
			return
		}
		if o.CallID == "" || o.OperatorID == "" || o.Expires.UnixMilli() <= 0 {
			t.Fatalf("accepted an offer without call, operator or expiry: %+v", o)
		}
		enc, err := queue.EncodeOffer(o)
		if err != nil {
			t.Fatal(err)
		}
		o2, err := queue.DecodeOffer(enc)
		if err != nil || o2 != o {
			t.Fatalf("round trip: %+v -> %s -> %+v, %v", o, enc, o2, err)
		}
	})
}
