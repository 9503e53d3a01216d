package aritest_test

import (
	"strings"
	"testing"
	"time"

	"github.com/helpline-it/helpline/ari/aritest"
)

// An originate on A to "PJSIP/<user>@<trunk>" of a trunk linked to B
// rings B's softphone <user>: the leg on A is a channel of the trunk
// endpoint that answers (or fails) as B's softphone does.
func TestLinkedTrunkRingsThePeersSoftphone(t *testing.T) {
	for _, tc := range []struct {
		name     string
		user     string
		phone    aritest.Phone
		closeB   bool
		answered bool
		cause    float64
	}{
		{"answers", "op1001", aritest.Phone{RingFor: time.Second}, false, true, 0},
		{"busy on B", "op1001", aritest.Phone{Answer: aritest.RejectBusy}, false, false, 17},
		{"not registered on B", "op1002", aritest.Phone{}, false, false, 19},
		{"unknown on B", "op9999", aritest.Phone{}, false, false, 19},
		{"B is gone", "op1001", aritest.Phone{}, true, false, 19},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newFixture(t)
			b := aritest.NewServer(aritest.Config{Clock: a.clock, Endpoints: func() []aritest.Endpoint {
				eps := aritest.DefaultEndpoints()
				eps[1].Phone = tc.phone
				return eps
			}()})
			t.Cleanup(b.Close)
			a.srv.Link("internode-b", b)
			if tc.closeB {
				b.Close()
			}
			r := a.do("POST", "/channels", q("endpoint", "PJSIP/"+tc.user+"@internode-b", "app", "helpline", "appArgs", "operator", "channelId", "leg-1", "timeout", "20"), nil)
			a.expect(r, 200, "originate through the trunk")
			if name, _ := r.body["name"].(string); !strings.HasPrefix(name, "PJSIP/internode-b-") {
				t.Errorf("channel name %q; want a channel of the trunk endpoint", name)
			}
			d := a.app.await("Dial", func(e map[string]any) bool { return e["dialstatus"] == "RINGING" })
			if d["dialstring"] != tc.user+"@internode-b" {
				t.Errorf("dialstring %v", d["dialstring"])
			}
			a.advance(5 * time.Second)
			if tc.answered {
				s := a.app.await("StasisStart", nil)
				if chanID(s) != "leg-1" {
					t.Errorf("StasisStart of %v", chanID(s))
				}
				return
			}
			e := a.app.await("ChannelDestroyed", nil)
			if e["cause"] != tc.cause {
				t.Errorf("leg destroyed with cause %v, want %v", e["cause"], tc.cause)
			}
		})
	}
	t.Run("unlinked trunk", func(t *testing.T) {
		a := newFixture(t)
		r := a.do("POST", "/channels", q("endpoint", "PJSIP/op1001@internode-x", "app", "helpline"), nil)
		if r.status != 500 || r.body["error"] != "Allocation failed" {
			t.Errorf("%d %s; want Allocation failed", r.status, r.raw)
		}
	})
}
