package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/helpline-it/helpline/callerid"
	"github.com/helpline-it/helpline/cdr"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// dataDir is $HELPLINE_DATA, or ../shared/data beside the repository root
// (where the seed quarter lives on the project machines).
func dataDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("HELPLINE_DATA"); d != "" {
		return d
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared", "data")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test directory; set HELPLINE_DATA")
		}
		dir = parent
	}
}

// loadSeed decodes the seed quarter (once per test binary) through the cdr
// package's own neutral reader: numbers are hashed on the way in.
func loadSeed(t testing.TB) []cdr.Record {
	t.Helper()
	path := filepath.Join(dataDir(t), "quarter-2025-summer.jsonl.gz")
	recs, err := readNeutralFile(path)
	if err != nil {
		t.Fatalf("seed quarter (set HELPLINE_DATA to the directory holding it): %v", err)
	}
	return recs
}

var seedCache struct {
	sync.Mutex
	path string
	recs []cdr.Record
}

func readNeutralFile(path string) ([]cdr.Record, error) {
	seedCache.Lock()
	defer seedCache.Unlock()
	if seedCache.path == path {
		return seedCache.recs, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h, err := callerid.NewHasher([]byte("report-test-key-0123456789"))
	if err != nil {
		return nil, err
	}
	nr, err := cdr.NewNeutralReader(f, h, cdr.NeutralOptions{})
	if err != nil {
		return nil, err
	}
	defer nr.Close()
	var recs []cdr.Record
	for {
		r, err := nr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		recs = append(recs, r)
	}
	seedCache.path, seedCache.recs = path, recs
	return recs, nil
}

func each(recs []cdr.Record) func(func(*cdr.Record) bool) {
	return func(yield func(*cdr.Record) bool) {
		for i := range recs {
			if !yield(&recs[i]) {
				return
			}
		}
	}
}

func rome(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(DefaultTimezone)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// expected is quarter-2025-summer.expected.json.
type expected struct {
	Start, End     string
	Matrix         [24][7]int64
	Answered       int64
	Unanswered     int64
	Voicemail      int64
	Abandoned      int64
	Blacklisted    int64
	WelcomeHangup  int64   `json:"welcome_hangup"`
	TalkTotalS     int64   `json:"talk_total_s"`
	MeanWaitS      float64 `json:"mean_wait_s"`
	MeanWaitExactS float64 `json:"mean_wait_exact_s"`
	OutAnswered    int64   `json:"out_answered"`
	OutBusy        int64   `json:"out_busy"`
	OutNoAnswer    int64   `json:"out_noanswer"`
	OutTalkTotalS  int64   `json:"out_talk_total_s"`
	Total          int64
	Queued         int64
	OutTotal       int64 `json:"out_total"`
}

func loadExpected(t *testing.T) expected {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dataDir(t), "quarter-2025-summer.expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var e expected
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields() // a new figure in the file must get a check here
	if err := dec.Decode(&e); err != nil {
		t.Fatalf("expected.json: %v", err)
	}
	return e
}

func seedResult(t *testing.T) Result {
	t.Helper()
	e := loadExpected(t)
	p, err := NewPeriod(e.Start, e.End, rome(t))
	if err != nil {
		t.Fatal(err)
	}
	return Build(p, "", each(loadSeed(t)))
}

// TestSeedQuarterFigures checks every figure of the expected file.
func TestSeedQuarterFigures(t *testing.T) {
	e := loadExpected(t)
	res := seedResult(t)
	in := res.Inbound
	for _, c := range []struct {
		name      string
		got, want int64
	}{
		{"total", in.Total, e.Total},
		{"queued", in.Queued, e.Queued},
		{"answered", in.Answered, e.Answered},
		{"unanswered", in.Unanswered, e.Unanswered},
		{"voicemail", in.Voicemail, e.Voicemail},
		{"abandoned", in.Abandoned, e.Abandoned},
		{"blacklisted", in.Blacklisted, e.Blacklisted},
		{"welcome_hangup", in.WelcomeHangup, e.WelcomeHangup},
		{"talk_total_s", int64(res.Talk.Total / time.Second), e.TalkTotalS},
		{"out_answered", res.Outbound.Answered, e.OutAnswered},
		{"out_busy", res.Outbound.Busy, e.OutBusy},
		{"out_noanswer", res.Outbound.NoAnswer, e.OutNoAnswer},
		{"out_failed", res.Outbound.Failed, 0},
		{"out_total", res.Outbound.Total, e.OutTotal},
		{"out_talk_total_s", int64(res.Outbound.Talk / time.Second), e.OutTalkTotalS},
		{"matrix total", res.Weekday.Total(), e.Total},
		{"skipped", res.Skipped.Total(), 0},
	} {
		if c.got != c.want {
			t.Errorf("%s = %d; want %d", c.name, c.got, c.want)
		}
	}
	if res.Talk.Total%time.Second != 0 {
		t.Errorf("talk total %v is not whole seconds", res.Talk.Total)
	}
	if d := res.Wait.AverageSeconds - e.MeanWaitExactS; d > 1e-9 || d < -1e-9 {
		t.Errorf("mean wait = %.12f; want %.12f", res.Wait.AverageSeconds, e.MeanWaitExactS)
	}
	if got := round1(res.Wait.AverageSeconds); got != e.MeanWaitS {
		t.Errorf("mean wait rounded = %v; want %v", got, e.MeanWaitS)
	}
	for h := range 24 {
		for d := range 7 {
			if got, want := res.Weekday[d][h], e.Matrix[h][d]; got != want {
				t.Errorf("weekday %d hour %d = %d; want %d", d, h, got, want)
			}
		}
	}
	// The shares the published report prints.
	if got, want := in.SharesOfTotal, (TotalShares{Queued: 53.3, Blacklisted: 17.8, WelcomeHangup: 28.9}); got != want {
		t.Errorf("shares of total = %+v; want %+v", got, want)
	}
	if got, want := in.SharesOfQueued, (QueuedShares{Answered: 86.2, Unanswered: 5.1, Voicemail: 0.3, Abandoned: 8.4}); got != want {
		t.Errorf("shares of queued = %+v; want %+v", got, want)
	}
	if res.Outbound.AnsweredShare != 65.7 || !res.Outbound.ShareKnown {
		t.Errorf("outbound answered share = %v; want 65.7", res.Outbound.AnsweredShare)
	}
	// Our average talk time is total / answered (see doc.go): 6m 01s.
	if res.Talk.Average != 6*time.Minute+1*time.Second {
		t.Errorf("average talk = %v; want 6m1s", res.Talk.Average)
	}
	if res.Previous.Known {
		t.Errorf("previous period known without a store: %+v", res.Previous)
	}
	// The part beyond the seed must add up to the same calls.
	if res.AllLanguages.Offered != in.Queued || res.AllLanguages.Answered != in.Answered {
		t.Errorf("all languages = %+v; want offered %d answered %d", res.AllLanguages, in.Queued, in.Answered)
	}
	var opAnswered, opOut int64
	for _, op := range res.Operators {
		opAnswered += op.Answered
		opOut += op.Outbound
	}
	if opAnswered != in.Answered || opOut != res.Outbound.Total {
		t.Errorf("operators answered %d, outbound %d; want %d, %d", opAnswered, opOut, in.Answered, res.Outbound.Total)
	}
}

// TestSeedQuarterGolden renders the seed quarter and compares with the
// golden files; -update rewrites them.
func TestSeedQuarterGolden(t *testing.T) {
	res := seedResult(t)
	tests := []struct {
		file   string
		render func(w io.Writer) error
		must   []string // the published report's own figures
	}{
		{"seed-quarter.it.txt", func(w io.Writer) error { return WriteText(w, &res, Italian) }, []string{
			"34.620", "18.455", "15.911", "943", "59", "1.542", "6.178", "9.987",
			"53,3%", "28,9%", "17,8%", "86,2%", "8,4%", "5,1%", "0,3%",
			"1.594h 18m 30s", "36,5 secondi", "06m 01s",
			"Giugno - Luglio - Agosto 2025",
			"0:00          173  117  163  114  226  146  150  1.089",
			"12:00         290  379  279  266  273  294  332  2.113",
			"23:00         159  218  158  186  221  188  151  1.281",
			"Tot         5.329  5.253  4.825  4.721  5.019  4.658  4.815  34.620",
			"908", "115", "359", "37h 42m 21s", "1.382", "65,7%",
		}},
		{"seed-quarter.en.txt", func(w io.Writer) error { return WriteText(w, &res, English) }, []string{
			"34,620", "53.3%", "86.2%", "1,594h 18m 30s", "36.5 seconds", "June - July - August 2025",
		}},
		{"seed-quarter.csv.txt", func(w io.Writer) error { return csvConcat(w, &res, Italian) }, []string{
			"== inbound.csv ==", "queued,Numero chiamate entrate in coda,18455,53.3,",
			"answered,Numero chiamate risposte,15911,,86.2", "welcome_hangup,Chiamate chiuse nel corso del messaggio di benvenuto,9987,28.9,",
			"0,173,117,163,114,226,146,150,1089", "total,5329,5253,4825,4721,5019,4658,4815,34620",
			"talk_total_seconds,Durata totale chiamate,5739510", "wait_average_seconds,", ",36.5",
			"answered,Numero chiamate risposte,908,135741", "total,Totale chiamate,1382,135741",
		}},
		{"seed-quarter.json", func(w io.Writer) error { return WriteJSON(w, &res) }, []string{
			`"total": 34620`, `"queued": 53.3`, `"answered": 86.2`, `"average_seconds": 36.5`, `"answered_share": 65.7`,
		}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			var buf bytes.Buffer
			if err := tc.render(&buf); err != nil {
				t.Fatal(err)
			}
			golden(t, tc.file, buf.Bytes())
			// Compare with runs of blanks squeezed, so that the check is
			// about figures and their order on a line, not column widths.
			squeezed := squeeze(buf.String())
			for _, s := range tc.must {
				if !strings.Contains(squeezed, squeeze(s)) {
					t.Errorf("output lacks %q", s)
				}
			}
		})
	}
}

// csvConcat writes every CSV file of the report, each under a
// "== name ==" line, into one stream for a single golden file.
func csvConcat(w io.Writer, res *Result, lang Lang) error {
	files := map[string]*bytes.Buffer{}
	err := WriteCSV(func(name string) (io.WriteCloser, error) {
		if files[name] != nil {
			return nil, fmt.Errorf("%s created twice", name)
		}
		files[name] = new(bytes.Buffer)
		return nopCloser{files[name]}, nil
	}, res, lang)
	if err != nil {
		return err
	}
	for _, name := range CSVFiles() {
		b := files[name]
		if b == nil {
			return fmt.Errorf("%s not written", name)
		}
		fmt.Fprintf(w, "== %s ==\n%s", name, b)
	}
	return nil
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// squeeze replaces every run of spaces within each line with one space.
func squeeze(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.Join(strings.Fields(l), " ")
	}
	return strings.Join(lines, "\n")
}

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := range max(len(gl), len(wl)) {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("%s differs from the golden file at line %d:\n got: %q\nwant: %q\n(run go test -update if the change is intended)", name, i+1, g, w)
			}
		}
	}
}
