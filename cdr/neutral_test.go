package cdr_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/helpline-it/helpline/callerid"
	"github.com/helpline-it/helpline/cdr"
)

const testKey = "cdr-test-key-0123456789"

func hasher(t testing.TB) *callerid.Hasher {
	t.Helper()
	h, err := callerid.NewHasher([]byte(testKey))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// readAll decodes every line of r, returning the records and the line
// errors; it fails the test on any other error.
func readAll(t *testing.T, r io.Reader, opts cdr.NeutralOptions) ([]cdr.Record, []*cdr.LineError) {
	t.Helper()
	d, err := cdr.NewNeutralReader(r, hasher(t), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var recs []cdr.Record
	var bad []*cdr.LineError
	for {
		rec, err := d.Read()
		var le *cdr.LineError
		switch {
		case err == io.EOF:
			return recs, bad
		case errors.As(err, &le):
			bad = append(bad, le)
		case err != nil:
			t.Fatalf("Read: %v", err)
		default:
			recs = append(recs, rec)
		}
	}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return v.UTC()
}

func TestNeutralReaderSample(t *testing.T) {
	f, err := os.Open("testdata/sample.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, bad := readAll(t, f, cdr.NeutralOptions{Service: "1522"})
	if len(bad) != 0 {
		t.Fatalf("sample has bad lines: %v", bad)
	}
	if len(recs) != 9 {
		t.Fatalf("got %d records, want 9", len(recs))
	}
	h := hasher(t)
	want0 := cdr.Record{
		ID: "in-1", Direction: cdr.Inbound, Service: "1522", Outcome: cdr.Answered,
		ArrivedAt:   mustTime(t, "2025-06-02T08:00:00Z"),
		QueuedAt:    mustTime(t, "2025-06-02T08:00:30Z"),
		ConnectedAt: mustTime(t, "2025-06-02T08:01:00Z"),
		EndedAt:     mustTime(t, "2025-06-02T08:06:00Z"),
		Language:    "it", Operator: "op1001",
		CallerHash: h.Identify("+393330000101").Hash,
	}
	if recs[0] != want0 {
		t.Errorf("line 1:\n got %+v\nwant %+v", recs[0], want0)
	}
	byID := map[string]cdr.Record{}
	for _, r := range recs {
		byID[r.ID] = r
	}
	if r := byID["in-3"]; !r.Withheld || r.CallerHash != "" {
		t.Errorf("withheld: true gave %+v", r)
	}
	if r := byID["in-6"]; !r.Withheld || r.CallerHash != "" {
		t.Errorf("caller \"anonymous\" gave %+v", r)
	}
	if got, want := byID["in-4"].CallerHash, h.Identify("+393330000104").Hash; got != want {
		t.Errorf("0039 form hashed to %s, want the E.164 hash %s", got, want)
	}
	if got := byID["in-6"].ArrivedAt; !got.Equal(mustTime(t, "2025-06-02T06:50:00Z")) || got.Location() != time.UTC {
		t.Errorf("offset time read as %v, want 06:50 UTC", got)
	}
	if got := byID["out-1"]; got.CalleeHash != h.Identify("+390612345678").Hash || got.ConnectedAt.Nanosecond() != 403399000 {
		t.Errorf("outbound read as %+v", got)
	}
}

func TestNeutralReaderGzipAndBlankLines(t *testing.T) {
	plain, err := os.ReadFile("testdata/sample.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(plain)
	zw.Close()
	a, _ := readAll(t, bytes.NewReader(plain), cdr.NeutralOptions{})
	b, _ := readAll(t, &gz, cdr.NeutralOptions{})
	if len(a) != 9 || len(b) != len(a) {
		t.Fatalf("plain gave %d records, gzip %d", len(a), len(b))
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("record %d differs between plain and gzip", i)
		}
	}
	// Line numbers count blank lines: sample.jsonl line 4 is blank, so a
	// break on line 5 must be reported as line 5.
	broken := strings.Replace(string(plain), `"id": "in-4"`, `"id": ""`, 1)
	_, bad := readAll(t, strings.NewReader(broken), cdr.NeutralOptions{})
	if len(bad) != 1 || bad[0].Line != 5 {
		t.Fatalf("bad lines = %v, want one on line 5", bad)
	}
}

func TestNeutralReaderThreeBadLines(t *testing.T) {
	f, err := os.Open("testdata/three-bad.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, bad := readAll(t, f, cdr.NeutralOptions{})
	if len(recs) != 3 {
		t.Errorf("got %d good records, want 3", len(recs))
	}
	want := []struct {
		line int
		msg  []string
	}{
		{2, []string{"unknown inbound outcome \"hung_up\""}},
		{4, []string{"missing connected_at", "missing operator"}},
		{5, []string{"bad JSON"}},
	}
	if len(bad) != len(want) {
		t.Fatalf("bad lines = %v, want %d", bad, len(want))
	}
	for i, w := range want {
		if bad[i].Line != w.line {
			t.Errorf("bad[%d] on line %d, want %d", i, bad[i].Line, w.line)
		}
		for _, m := range w.msg {
			if !strings.Contains(bad[i].Error(), m) {
				t.Errorf("line %d error %q does not say %q", w.line, bad[i].Error(), m)
			}
		}
		if cdr.ErrorCode(bad[i]) != cdr.EINVALID || !errors.Is(bad[i], cdr.ErrInvalid) {
			t.Errorf("line %d error code %q, want %q", w.line, cdr.ErrorCode(bad[i]), cdr.EINVALID)
		}
	}
}

// base lines for the table below: valid, with fields to remove or change.
const (
	inAnswered  = `"id":"x","direction":"inbound","arrived_at":"2025-06-02T08:00:00Z","outcome":"answered","caller":"+393330000101","language":"it","queued_at":"2025-06-02T08:00:30Z","connected_at":"2025-06-02T08:01:00Z","ended_at":"2025-06-02T08:06:00Z","operator":"op1"`
	inAbandoned = `"id":"x","direction":"inbound","arrived_at":"2025-06-02T08:00:00Z","outcome":"abandoned","caller":"+393330000101","language":"it","queued_at":"2025-06-02T08:00:30Z","ended_at":"2025-06-02T08:06:00Z"`
	outAnswered = `"id":"x","direction":"outbound","arrived_at":"2025-06-02T08:00:00Z","outcome":"answered","callee":"+390612345678","connected_at":"2025-06-02T08:01:00Z","ended_at":"2025-06-02T08:06:00Z","operator":"op1"`
	hashA       = "0000000000000000000000000000000000000000000000000000000000000abc"
)

func TestDecodeNeutral(t *testing.T) {
	h := hasher(t)
	drop := func(base, key string) string {
		re := regexp.MustCompile(`,?"` + key + `":"[^"]*"`)
		return strings.TrimPrefix(re.ReplaceAllString(base, ""), ",")
	}
	set := func(base, key, val string) string {
		re := regexp.MustCompile(`"` + key + `":"[^"]*"`)
		return re.ReplaceAllString(base, `"`+key+`":`+val)
	}
	obj := func(s string) string { return "{" + s + "}" }
	tests := []struct {
		name string
		line string   // the object's members; the test adds the braces
		raw  bool     // line is the whole line, as is
		want []string // substrings of the error; nil = valid
	}{
		{"inbound answered", inAnswered, false, nil},
		{"inbound abandoned", inAbandoned, false, nil},
		{"outbound answered", outAnswered, false, nil},
		{"outbound busy", set(drop(outAnswered, "connected_at"), "outcome", `"busy"`), false, nil},
		{"hash instead of caller", strings.Replace(inAnswered, `"caller":"+393330000101"`, `"caller_hash":"`+hashA+`"`, 1), false, nil},
		{"empty caller is withheld", set(inAnswered, "caller", `""`), false, nil},
		{"unknown keys listed", inAnswered + `,"colour":"red","conected_at":"x"`, false, []string{`unknown keys "colour", "conected_at"`}},
		{"bad JSON", `{"id":"x",`, true, []string{"bad JSON"}},
		{"not an object", `[1,2]`, true, []string{"bad JSON"}},
		{"two values", obj(inAnswered) + obj(inAnswered), true, []string{"more than one value"}},
		{"wrong type", set(inAnswered, "language", `3`), false, []string{`"language" is a number, want string`}},
		{"unknown direction", set(inAnswered, "direction", `"sideways"`), false, []string{`unknown direction "sideways"`}},
		{"outbound outcome on inbound", set(inAnswered, "outcome", `"busy"`), false, []string{`unknown inbound outcome "busy"`}},
		{"missing id", drop(inAnswered, "id"), false, []string{"missing id"}},
		{"missing arrived_at", drop(inAnswered, "arrived_at"), false, []string{"missing arrived_at"}},
		{"missing ended_at", drop(inAnswered, "ended_at"), false, []string{"missing ended_at"}},
		{"answered needs queued_at", drop(inAnswered, "queued_at"), false, []string{"missing queued_at"}},
		{"answered needs connected_at", drop(inAnswered, "connected_at"), false, []string{"missing connected_at"}},
		{"answered needs operator", drop(inAnswered, "operator"), false, []string{"missing operator"}},
		{"answered needs language", drop(inAnswered, "language"), false, []string{"missing language"}},
		{"abandoned needs queued_at", drop(inAbandoned, "queued_at"), false, []string{"missing queued_at"}},
		{"abandoned needs language", drop(inAbandoned, "language"), false, []string{"missing language"}},
		{"abandoned has no connected_at", inAbandoned + `,"connected_at":"2025-06-02T08:01:00Z"`, false, []string{"connected_at on a abandoned call"}},
		{"missing caller", drop(inAnswered, "caller"), false, []string{"missing caller"}},
		{"caller and hash", inAnswered + `,"caller_hash":"` + hashA + `"`, false, []string{"both caller and caller_hash"}},
		{"hash not hex", strings.Replace(inAnswered, `"caller":"+393330000101"`, `"caller_hash":"+393330000101"`, 1), false, []string{"caller_hash is not a 64-digit hex HMAC"}},
		{"outbound needs callee", drop(outAnswered, "callee"), false, []string{"missing callee"}},
		{"outbound needs operator", drop(outAnswered, "operator"), false, []string{"missing operator"}},
		{"outbound answered needs connected_at", drop(outAnswered, "connected_at"), false, []string{"missing connected_at"}},
		{"outbound callee not a number", set(outAnswered, "callee", `"private"`), false, []string{"callee is not a phone number"}},
		{"caller on outbound", outAnswered + `,"caller":"+393330000101"`, false, []string{"caller on an outbound call"}},
		{"ended before arrived", set(inAbandoned, "ended_at", `"2025-06-02T07:00:00Z"`), false, []string{"ended_at before arrived_at"}},
		{"connected before queued", set(inAnswered, "connected_at", `"2025-06-02T08:00:10Z"`), false, []string{"connected_at before queued_at"}},
		{"bad time", set(inAnswered, "arrived_at", `"yesterday"`), false, []string{`arrived_at "yesterday" is not an RFC 3339 time`}},
		{"welcome hangup with queue", set(inAbandoned, "outcome", `"welcome_hangup"`), false, []string{"queued_at on a welcome_hangup call"}},
		{"bad hangup_by", inAnswered + `,"hangup_by":"god"`, false, []string{`unknown hangup_by "god"`}},
		{"several problems at once", drop(drop(inAnswered, "operator"), "language"), false, []string{"missing operator", "missing language"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			line := tt.line
			if !tt.raw {
				line = obj(line)
			}
			rec, err := cdr.DecodeNeutral([]byte(line), h)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("DecodeNeutral(%s) = %v; want valid", line, err)
				}
				if rec.ID != "x" {
					t.Fatalf("decoded %+v", rec)
				}
				return
			}
			if err == nil {
				t.Fatalf("DecodeNeutral(%s) = %+v; want an error", line, rec)
			}
			if cdr.ErrorCode(err) != cdr.EINVALID {
				t.Errorf("code %q, want %q", cdr.ErrorCode(err), cdr.EINVALID)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "3330000101") || strings.Contains(err.Error(), "0612345678") {
				t.Errorf("error %q leaks a number", err)
			}
		})
	}
}

func TestNeutralReaderUnknownKeysAllowed(t *testing.T) {
	line := "{" + inAnswered + `,"colour":"red"}` + "\n"
	var gotLine int
	var gotKeys []string
	recs, bad := readAll(t, strings.NewReader(line), cdr.NeutralOptions{
		AllowUnknownKeys: true,
		OnUnknownKeys:    func(l int, k []string) { gotLine, gotKeys = l, k },
	})
	if len(bad) != 0 || len(recs) != 1 {
		t.Fatalf("recs=%d bad=%v, want 1 record", len(recs), bad)
	}
	if gotLine != 1 || len(gotKeys) != 1 || gotKeys[0] != "colour" {
		t.Fatalf("OnUnknownKeys(%d, %v), want (1, [colour])", gotLine, gotKeys)
	}
}

func TestNeutralReaderLongLine(t *testing.T) {
	in := "{" + inAbandoned + "}\n" + `{"note":"` + strings.Repeat("a", cdr.MaxNeutralLine+10) + "\"}\n{" + inAnswered + "}\n"
	recs, bad := readAll(t, strings.NewReader(in), cdr.NeutralOptions{})
	if len(recs) != 2 || len(bad) != 1 || bad[0].Line != 2 || !strings.Contains(bad[0].Error(), "longer than") {
		t.Fatalf("recs=%d bad=%v; want 2 records and line 2 too long", len(recs), bad)
	}
}

func TestNeutralWriterRoundTrip(t *testing.T) {
	f, err := os.Open("testdata/sample.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, _ := readAll(t, f, cdr.NeutralOptions{})
	recs[0].Service, recs[0].Target, recs[0].HangupCause, recs[0].HangupBy = "1522", "CAV-RM-01", 16, cdr.HangupCaller
	recs[0].Transfer, recs[0].Fallback, recs[0].Note = "blind:CAV-RM-01:ok", true, "asterisk_restart"
	recs[2].Voicemail = "vm-in-3"
	recs[1].EndedAt = recs[1].EndedAt.Add(1234567 * time.Nanosecond) // stores keep µs

	var buf bytes.Buffer
	w := cdr.NewNeutralWriter(&buf)
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, raw := range []string{`"caller":`, `"callee":`, "3330000101", "0612345678"} {
		if strings.Contains(out, raw) {
			t.Fatalf("export contains %s:\n%s", raw, out)
		}
	}
	if !strings.Contains(out, `"caller_hash":"`) || !strings.Contains(out, `"callee_hash":"`) {
		t.Fatalf("export has no hashes:\n%s", out)
	}
	back, bad := readAll(t, strings.NewReader(out), cdr.NeutralOptions{})
	if len(bad) != 0 || len(back) != len(recs) {
		t.Fatalf("re-import: %d records, bad %v", len(back), bad)
	}
	for i := range recs {
		if want := recs[i].Canonical(); back[i] != want {
			t.Errorf("record %d:\n got %+v\nwant %+v", i, back[i], want)
		}
	}
}

func TestRedactedMessages(t *testing.T) {
	// A number typed in the wrong field must not come back in the error.
	line := `{"id":"x","direction":"+393331234567","arrived_at":"2025-06-02T08:00:00Z","outcome":"answered","ended_at":"2025-06-02T08:00:00Z"}`
	_, err := cdr.DecodeNeutral([]byte(line), hasher(t))
	if err == nil || strings.Contains(err.Error(), "3331234567") || !strings.Contains(err.Error(), `"+#"`) {
		t.Fatalf("error %v; want the number masked as \"+#\"", err)
	}
}
