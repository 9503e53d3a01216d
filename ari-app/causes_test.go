package ariapp

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/helpline-it/helpline/ari"
	"github.com/helpline-it/helpline/ivr"
)

func ptr[T any](v T) *T { return &v }

func TestRequestCause(t *testing.T) {
	tests := []struct {
		name      string
		ev        ari.ChannelHangupRequest
		requested int
		want      int
	}{
		{"SIP BYE: no cause", ari.ChannelHangupRequest{}, 0, ivr.CauseNormal},
		{"our DELETE, busy asked", ari.ChannelHangupRequest{Cause: ptr(32), Soft: ptr(true)}, ivr.CauseBusy, ivr.CauseBusy},
		{"our DELETE, nothing asked", ari.ChannelHangupRequest{Cause: ptr(32), Soft: ptr(true)}, 0, ivr.CauseNormal},
		{"Local Hangup(16)", ari.ChannelHangupRequest{Cause: ptr(16), Soft: ptr(true)}, 0, ivr.CauseNormal},
		{"SIP CANCEL", ari.ChannelHangupRequest{Cause: ptr(127), TechCause: ptr(487)}, 0, 127},
		{"486 on a leg", ari.ChannelHangupRequest{Cause: ptr(17), TechCause: ptr(486)}, 0, ivr.CauseBusy},
		{"cause 0 Unknown", ari.ChannelHangupRequest{Cause: ptr(0)}, 0, ivr.CauseNormal},
		{"32 not soft is a cause", ari.ChannelHangupRequest{Cause: ptr(32)}, ivr.CauseBusy, 32},
	}
	for _, tc := range tests {
		if got := requestCause(&tc.ev, tc.requested); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestOriginateCause(t *testing.T) {
	tests := []struct {
		destroyed int
		dial      string
		want      int
	}{
		{17, "BUSY", 17},      // PJSIP 486
		{0, "BUSY", 17},       // Local Busy(): cause 0 on ;1
		{0, "CONGESTION", 34}, // Local Congestion()
		{0, "NOANSWER", 19},
		{21, "NOANSWER", 21}, // Local Hangup(21): the cause wins
		{19, "RINGING", 19},  // ring timeout: no final Dial
		{0, "", 0},           // no such extension: no Dial at all
		{0, "CHANUNAVAIL", 0},
	}
	for _, tc := range tests {
		if got := originateCause(tc.destroyed, tc.dial); got != tc.want {
			t.Errorf("originateCause(%d, %q) = %d, want %d", tc.destroyed, tc.dial, got, tc.want)
		}
	}
}

func TestHangupReason(t *testing.T) {
	for cause, want := range map[int]ari.HangupReason{
		0: ari.HangupNormal, 16: ari.HangupNormal, 17: ari.HangupBusy, 34: ari.HangupCongestion,
		19: ari.HangupNoAnswer, 21: ari.HangupRejected, 1: ari.HangupUnallocated,
	} {
		if got, ok := hangupReason(cause); !ok || got != want {
			t.Errorf("hangupReason(%d) = %q %v, want %q", cause, got, ok, want)
		}
	}
	if _, ok := hangupReason(42); ok {
		t.Error("cause 42 has no named reason; it goes as reason_code")
	}
}

func TestSmallMappings(t *testing.T) {
	for d, want := range map[time.Duration]int{0: 1, -time.Second: 1, time.Millisecond: 1, time.Second: 1, 1500 * time.Millisecond: 2, 20 * time.Second: 20} {
		if got := timeoutSeconds(d); got != want {
			t.Errorf("timeoutSeconds(%v) = %d, want %d", d, got, want)
		}
	}
	for d, want := range map[ivr.Digit]string{0: "none", '#': "#", '*': "*", '5': "any"} {
		if got := terminateOn(d); got != want {
			t.Errorf("terminateOn(%q) = %q, want %q", d, got, want)
		}
	}
	tests := []struct {
		args []string
		kind kind
		op   string
	}{
		{[]string{"inbound"}, kindInbound, ""},
		{[]string{"operator", "op1001"}, kindOperator, "op1001"},
		{[]string{"operator", "op1001", "1795446033.2"}, kindLeg, "op1001"},
		{nil, kindInbound, ""},
		{[]string{"whatever"}, kindInbound, ""},
	}
	for _, tc := range tests {
		if k, op := classify(tc.args); k != tc.kind || op != tc.op {
			t.Errorf("classify(%q) = %s %q, want %s %q", tc.args, k, op, tc.kind, tc.op)
		}
	}
}

func TestStasisArgs(t *testing.T) {
	tests := []struct {
		app, data string
		args      []string
		in        bool
	}{
		{"Stasis", "helpline,inbound", []string{"inbound"}, true},
		{"Stasis", "helpline,operator,op1,1.2", []string{"operator", "op1", "1.2"}, true},
		{"Stasis", "other,inbound", nil, false},
		{"AppDial2", "(Outgoing Line)", nil, false},
		{"Stasis", "helpline", []string{}, true},
	}
	for _, tc := range tests {
		args, in := stasisArgs(ari.Channel{Dialplan: ari.DialplanCEP{AppName: tc.app, AppData: tc.data}}, "helpline")
		if in != tc.in || !slices.Equal(args, tc.args) {
			t.Errorf("stasisArgs(%s %q) = %q %v", tc.app, tc.data, args, in)
		}
	}
}

// FuzzCallerIDLabel: whatever the label, the callerId is one quoted name
// with an empty number, which Asterisk cannot read as a number.
func FuzzCallerIDLabel(f *testing.F) {
	for _, s := range []string{"1522 it", `"><+39333`, "a\\\"b", "\x00\n", "العربية"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, label string) {
		got := callerIDLabel(label)
		if !strings.HasPrefix(got, `"`) || !strings.HasSuffix(got, `" <>`) {
			t.Fatalf("%q → %q", label, got)
		}
		inner := strings.TrimSuffix(strings.TrimPrefix(got, `"`), `" <>`)
		if strings.ContainsAny(inner, "\"<>\\\n\r\x00") {
			t.Fatalf("%q → %q keeps a character that breaks the callerId", label, got)
		}
	})
}

func TestEndpointOf(t *testing.T) {
	for name, want := range map[string]string{
		"PJSIP/op1001-0000000c":             "PJSIP/op1001",
		"PJSIP/sipp-00000001":               "PJSIP/sipp",
		"Local/op1003@operators-00000002;2": "Local/op1003@operators",
		"PJSIP/op-with-dash-0000000a":       "PJSIP/op-with-dash",
		"PJSIP/op1001":                      "PJSIP/op1001",
		"":                                  "",
	} {
		if got := endpointOf(name); got != want {
			t.Errorf("endpointOf(%q) = %q, want %q", name, got, want)
		}
	}
}
