package spool_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/helpline-it/helpline/cdr/spool"
)

// segment builds a segment file from payloads.
func segment(payloads ...string) []byte {
	b := []byte(spool.SegmentHeader)
	for _, p := range payloads {
		b = spool.AppendFrame(b, []byte(p))
	}
	return b
}

func payloads(frames []spool.Frame) []string {
	var out []string
	for _, f := range frames {
		out = append(out, string(f.Payload))
	}
	return out
}

func TestDecodeSegment(t *testing.T) {
	good := segment(`{"a":1}`, `{"b":2}`, `{"c":3}`)
	hdr := len(spool.SegmentHeader)
	second := hdr + 12 + len(`{"a":1}`) // offset of the second frame
	flip := func(b []byte, at int) []byte {
		c := bytes.Clone(b)
		c[at] ^= 0x40
		return c
	}
	tests := []struct {
		name     string
		data     []byte
		want     []string
		problems []string // Problem.String() of each
	}{
		{"empty file", nil, nil, nil},
		{"header only", []byte(spool.SegmentHeader), nil, nil},
		{"three frames", good, []string{`{"a":1}`, `{"b":2}`, `{"c":3}`}, nil},
		{"header cut short", []byte(spool.SegmentHeader[:5]), nil,
			[]string{"torn tail at offset 0 (5 bytes skipped): header cut short"}},
		{"not a segment", []byte("hello, this is not a spool segment at all\n"), nil,
			[]string{"corrupt frame at offset 0 (42 bytes skipped): not a spool segment (bad header)"}},
		{"torn last frame", good[:len(good)-3], []string{`{"a":1}`, `{"b":2}`},
			[]string{fmt.Sprintf("torn tail at offset %d (16 bytes skipped): frame cut short", second+19)}},
		{"torn inside the last header", good[:len(good)-12], []string{`{"a":1}`, `{"b":2}`},
			[]string{fmt.Sprintf("torn tail at offset %d (7 bytes skipped): frame cut short", second+19)}},
		{"garbage appended", append(bytes.Clone(good), "\x00\x00\x00"...), []string{`{"a":1}`, `{"b":2}`, `{"c":3}`},
			[]string{fmt.Sprintf("torn tail at offset %d (3 bytes skipped): bad frame magic", len(good))}},
		{"corrupt payload in the middle", flip(good, second+14), []string{`{"a":1}`, `{"c":3}`},
			[]string{fmt.Sprintf("corrupt frame at offset %d (19 bytes skipped): frame checksum mismatch", second)}},
		{"corrupt length in the middle", flip(good, second+7), []string{`{"a":1}`, `{"c":3}`},
			[]string{fmt.Sprintf("corrupt frame at offset %d (19 bytes skipped): frame cut short", second)}},
		{"shorter length in the middle", flip(good, second+5), []string{`{"a":1}`, `{"c":3}`},
			[]string{fmt.Sprintf("corrupt frame at offset %d (19 bytes skipped): frame length out of range: 4194311 bytes", second)}},
		{"huge length in the middle", flip(good, second+4), []string{`{"a":1}`, `{"c":3}`},
			[]string{fmt.Sprintf("corrupt frame at offset %d (19 bytes skipped): frame length out of range: 1073741831 bytes", second)}},
		{"corrupt magic in the middle", flip(good, second), []string{`{"a":1}`, `{"c":3}`},
			[]string{fmt.Sprintf("corrupt frame at offset %d (19 bytes skipped): bad frame magic", second)}},
		{"corrupt first and last", flip(flip(good, hdr+13), len(good)-1), []string{`{"b":2}`},
			[]string{fmt.Sprintf("corrupt frame at offset %d (19 bytes skipped): frame checksum mismatch", hdr),
				fmt.Sprintf("torn tail at offset %d (19 bytes skipped): frame checksum mismatch", second+19)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			frames, problems := spool.DecodeSegment(tt.data)
			if got := payloads(frames); fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("frames = %q, want %q", got, tt.want)
			}
			var got []string
			for _, p := range problems {
				got = append(got, p.String())
			}
			if fmt.Sprint(got) != fmt.Sprint(tt.problems) {
				t.Errorf("problems:\n got %q\nwant %q", got, tt.problems)
			}
		})
	}
}

// FuzzDecodeSegment checks that decoding arbitrary bytes never panics,
// that every frame and problem lies inside the data, in order, without
// overlap, and that the intact frames decode again unchanged when framed
// afresh.
func FuzzDecodeSegment(f *testing.F) {
	f.Add(segment(`{"v":1}`))
	f.Add(segment(`{"a":1}`, `{"b":2}`)[:40])
	f.Add([]byte(spool.SegmentHeader + "\xc5\xd1\x5b\x0a\x00\x00\x00\x01"))
	f.Fuzz(func(t *testing.T, data []byte) {
		frames, problems := spool.DecodeSegment(data)
		type span struct{ at, n int64 }
		var spans []span
		for _, fr := range frames {
			spans = append(spans, span{fr.Offset, int64(12 + len(fr.Payload))})
			if len(fr.Payload) == 0 || len(fr.Payload) > spool.MaxPayload {
				t.Fatalf("frame at %d has a %d-byte payload", fr.Offset, len(fr.Payload))
			}
		}
		for i, p := range problems {
			if p.Length <= 0 {
				t.Fatalf("problem %v skips nothing", p)
			}
			if p.Torn && i != len(problems)-1 {
				t.Fatalf("torn tail %v is not the last problem", p)
			}
			spans = append(spans, span{p.Offset, p.Length})
		}
		for _, s := range spans {
			if s.at < 0 || s.at+s.n > int64(len(data)) {
				t.Fatalf("span %+v outside %d bytes", s, len(data))
			}
		}
		// Frames and problems tile the data after the header, in order.
		var total int64
		for _, s := range spans {
			total += s.n
		}
		if hdr := int64(len(spool.SegmentHeader)); len(frames) > 0 && total != int64(len(data))-hdr {
			t.Fatalf("frames and problems cover %d bytes of %d after the header", total, int64(len(data))-hdr)
		}
		again, p2 := spool.DecodeSegment(segment(payloads(frames)...))
		if len(p2) != 0 || fmt.Sprint(payloads(again)) != fmt.Sprint(payloads(frames)) {
			t.Fatalf("re-framed payloads decode as %q with %v, want %q", payloads(again), p2, payloads(frames))
		}
	})
}
