package ivr_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/helpline-it/helpline/ivr"
)

func TestMarkRoundTrip(t *testing.T) {
	at := time.Date(2026, 11, 23, 14, 0, 4, 123e6, time.UTC)
	for _, m := range []ivr.Mark{
		{Stage: ivr.StageTalk, Language: "it", QueuedAt: at.Add(-40 * time.Second), ConnectedAt: at, Operator: "op1001"},
		{Stage: ivr.StageVoicemail, Language: "en", QueuedAt: at, Voicemail: "vm-1795442400.1"},
		{Stage: ivr.StageTalk, ConnectedAt: at, Operator: "op&=;x"}, // odd ids survive the encoding
	} {
		got, err := ivr.ParseMark(m.Encode())
		if err != nil {
			t.Errorf("%+v: %v", m, err)
			continue
		}
		if got != m {
			t.Errorf("round trip %+v → %q → %+v", m, m.Encode(), got)
		}
	}
}

func TestParseMarkRejects(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"empty", "", "version"},
		{"other version", "v=2&stage=talk&op=a&connected=1", "version"},
		{"unknown stage", "v=1&stage=dancing", "unknown stage"},
		{"talk without operator", "v=1&stage=talk&connected=1700000000000", "operator"},
		{"talk without time", "v=1&stage=talk&op=op1", "connect time"},
		{"voicemail without name", "v=1&stage=voicemail", "recording name"},
		{"bad time", "v=1&stage=talk&op=op1&connected=soon", "not a time"},
		{"negative time", "v=1&stage=talk&op=op1&connected=-5", "not a time"},
		{"bad escape", "v=1&stage=talk&op=%zz", "invalid URL escape"},
		{"oversized", "v=1&stage=voicemail&vm=" + strings.Repeat("x", 600), "bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ivr.ParseMark(tc.in)
			if !errors.Is(err, ivr.ErrBadMark) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ParseMark(%q) = %v, want ErrBadMark mentioning %q", tc.in, err, tc.want)
			}
		})
	}
}

// FuzzParseMark: any channel value either parses into a Mark that
// encodes back to the same Mark, or is ErrBadMark; nothing panics.
func FuzzParseMark(f *testing.F) {
	f.Add("v=1&stage=talk&lang=it&queued=1795442360000&connected=1795442404000&op=op1001")
	f.Add("v=1&stage=voicemail&vm=vm-1.2")
	f.Add("v=1&stage=talk&op=%zz")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ivr.ParseMark(s)
		if err != nil {
			if !errors.Is(err, ivr.ErrBadMark) {
				t.Fatalf("ParseMark(%q): error %v is not ErrBadMark", s, err)
			}
			return
		}
		again, err := ivr.ParseMark(m.Encode())
		if err != nil || again != m {
			t.Fatalf("%q → %+v → %q → %+v, %v", s, m, m.Encode(), again, err)
		}
	})
}

func ExampleMark_Encode() {
	m := ivr.Mark{
		Stage: ivr.StageTalk, Language: "it", Operator: "op1001",
		QueuedAt:    time.Date(2026, 11, 23, 14, 0, 0, 0, time.UTC),
		ConnectedAt: time.Date(2026, 11, 23, 14, 0, 36, 0, time.UTC),
	}
	fmt.Println(m.Encode())
	back, _ := ivr.ParseMark(m.Encode())
	fmt.Println(back.Operator, back.ConnectedAt.Sub(back.QueuedAt))
	// Output:
	// connected=1795442436000&lang=it&op=op1001&queued=1795442400000&stage=talk&v=1
	// op1001 36s
}
