package sqlite_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/helpline-it/helpline/callerid"
	"github.com/helpline-it/helpline/cdr"
	"github.com/helpline-it/helpline/cdr/cdrtest"
	"github.com/helpline-it/helpline/cdr/sqlite"
)

func testHasher(tb testing.TB) *callerid.Hasher {
	tb.Helper()
	h, err := callerid.NewHasher([]byte("sqlite-test-key-0123456789abcdef"))
	if err != nil {
		tb.Fatal(err)
	}
	return h
}

func seedPath(tb testing.TB) string {
	return filepath.Join(cdrtest.DataDir(tb), cdrtest.SeedFile)
}

func importPath(t *testing.T, db cdr.Store, path string) (cdr.ImportResult, error) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return cdr.Import(t.Context(), db, f, testHasher(t), cdr.ImportOptions{})
}

// TestSeedQuarter imports the seed quarter once (hashing 36,000 numbers is
// the slow part) and checks, on that one database, the published figures,
// that a re-import is a no-op, that no raw number reached the disk, and the
// export → import round trip.
func TestSeedQuarter(t *testing.T) {
	want := cdrtest.LoadExpected(t)
	dir := t.TempDir()
	db, err := sqlite.Open(t.Context(), filepath.Join(dir, "cdr.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	res, err := importPath(t, db, seedPath(t))
	if err != nil {
		t.Fatalf("Import: %v (bad lines: %v)", err, res.Bad)
	}
	if res.Inserted != want.Total+want.OutTotal || res.Duplicates != 0 || res.BadLines != 0 {
		t.Fatalf("Import = %+v; want %d inserted", res, want.Total+want.OutTotal)
	}
	// Order matters: the disk scan runs while the WAL still holds the
	// import, and closes the database last.
	t.Run("Figures", func(t *testing.T) { checkSeedFigures(t, db, want) })
	t.Run("ReimportAddsNothing", func(t *testing.T) {
		res, err := importPath(t, db, seedPath(t))
		if err != nil || res.Inserted != 0 || res.Duplicates != want.Total+want.OutTotal {
			t.Fatalf("re-import = %+v, %v; want 0 new", res, err)
		}
	})
	t.Run("ExportImportRoundTrip", func(t *testing.T) { checkRoundTrip(t, db) })
	t.Run("NoRawNumbersOnDisk", func(t *testing.T) { checkNoRawNumbers(t, db, dir) })
}

// checkSeedFigures checks the seed database against the published
// figures: per-outcome counts, talk time, mean wait, and the weekday ×
// hour matrix (local time), which only comes out right if every arrived_at
// survived storage exactly.
func checkSeedFigures(t *testing.T, db *sqlite.DB, want cdrtest.Expected) {

	rome, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		t.Fatal(err)
	}
	in := map[cdr.Outcome]int{}
	out := map[cdr.Outcome]int{}
	var talk, outTalk, wait float64
	var matrix [24][7]int
	from, _ := time.ParseInLocation("2006-01-02", want.Start, rome)
	to, _ := time.ParseInLocation("2006-01-02", want.End, rome)
	err = db.Scan(t.Context(), cdr.Filter{From: from, To: to}, func(r *cdr.Record) error {
		if r.Direction == cdr.Outbound {
			out[r.Outcome]++
			if r.Outcome == cdr.Answered {
				outTalk += r.TalkSeconds()
			}
			return nil
		}
		in[r.Outcome]++
		if r.Outcome == cdr.Answered {
			talk += r.TalkSeconds()
			wait += r.WaitSeconds()
		}
		local := r.ArrivedAt.In(rome)
		matrix[local.Hour()][(int(local.Weekday())+6)%7]++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want int
	}{
		{"answered", in[cdr.Answered], want.Answered},
		{"unanswered", in[cdr.Unanswered], want.Unanswered},
		{"voicemail", in[cdr.Voicemail], want.Voicemail},
		{"abandoned", in[cdr.Abandoned], want.Abandoned},
		{"blacklisted", in[cdr.Blacklisted], want.Blacklisted},
		{"welcome_hangup", in[cdr.WelcomeHangup], want.WelcomeHangup},
		{"outbound answered", out[cdr.Answered], want.OutAnswered},
		{"outbound busy", out[cdr.Busy], want.OutBusy},
		{"outbound no_answer", out[cdr.NoAnswer], want.OutNoAnswer},
		{"outbound failed", out[cdr.Failed], want.OutTotal - want.OutAnswered - want.OutBusy - want.OutNoAnswer},
		{"talk seconds", int(math.Round(talk)), want.TalkTotalS},
		{"outbound talk seconds", int(math.Round(outTalk)), want.OutTalkTotalS},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.name, c.got, c.want)
		}
	}
	if got := wait / float64(want.Answered); math.Abs(got-want.MeanWaitExactS) > 1e-9 {
		t.Errorf("mean wait = %.12f s, want %.12f", got, want.MeanWaitExactS)
	}
	if matrix != want.Matrix {
		t.Errorf("weekday × hour matrix differs:\n got %v\nwant %v", matrix, want.Matrix)
	}
	for _, f := range []struct {
		f    cdr.Filter
		want int
	}{
		{cdr.Filter{Direction: cdr.Inbound}, want.Total},
		{cdr.Filter{Direction: cdr.Outbound}, want.OutTotal},
		{cdr.Filter{From: from, To: to, Direction: cdr.Inbound}, want.Total},
	} {
		if n, err := db.Count(t.Context(), f.f); err != nil || n != f.want {
			t.Errorf("Count(%+v) = %d, %v; want %d", f.f, n, err, f.want)
		}
	}
}

// sampleNumbers returns every step-th caller and callee number of the seed
// file, as written there.
func sampleNumbers(t *testing.T, step int) []string {
	t.Helper()
	f, err := os.Open(seedPath(t))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var nums []string
	sc := bufio.NewScanner(zr)
	for i := 0; sc.Scan(); i++ {
		if i%step != 0 {
			continue
		}
		var l struct{ Caller, Callee string }
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatal(err)
		}
		for _, n := range []string{l.Caller, l.Callee} {
			if n != "" {
				nums = append(nums, n)
			}
		}
	}
	return nums
}

// checkNoRawNumbers searches every file SQLite wrote (database, WAL,
// shared memory), while open and after close, for raw numbers of the seed
// file, with and without their +39. It closes db.
func checkNoRawNumbers(t *testing.T, db *sqlite.DB, dir string) {
	// Every number of the file, in its national form (without +39): a
	// digit run on disk containing one of them is a leak.
	national := map[string]bool{}
	lengths := map[int]bool{}
	for _, n := range sampleNumbers(t, 1) {
		d := strings.TrimPrefix(n, "+39")
		national[d] = true
		lengths[len(d)] = true
	}
	if len(national) < 30000 {
		t.Fatalf("only %d numbers read from the seed file", len(national))
	}
	scan := func(when string) {
		t.Helper()
		files, _ := filepath.Glob(filepath.Join(dir, "*"))
		total := 0
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			total += len(data)
			if bytes.Contains(data, []byte("+39")) {
				t.Errorf("%s: %s contains \"+39\"", when, filepath.Base(f))
			}
			if leaks := digitRunsIn(data, national, lengths); leaks > 0 {
				t.Errorf("%s: %s contains %d raw numbers", when, filepath.Base(f), leaks)
			}
		}
		if total < 1<<20 {
			t.Fatalf("%s: only %d bytes on disk: the scan would prove nothing", when, total)
		}
	}
	scan("open")
	db.Close()
	scan("closed")
}

// digitRunsIn counts the places in data where a run of ASCII digits
// contains one of nums (whose lengths are in lengths).
func digitRunsIn(data []byte, nums map[string]bool, lengths map[int]bool) int {
	leaks := 0
	for i := 0; i < len(data); {
		if data[i] < '0' || data[i] > '9' {
			i++
			continue
		}
		j := i
		for j < len(data) && data[j] >= '0' && data[j] <= '9' {
			j++
		}
		run := data[i:j]
		for l := range lengths {
			for k := 0; k+l <= len(run); k++ {
				if nums[string(run[k:k+l])] {
					leaks++
				}
			}
		}
		i = j
	}
	return leaks
}

// checkRoundTrip exports a store to the neutral format and imports the
// export into a new store: every record comes back the same, and
// exporting again gives the same bytes.
func checkRoundTrip(t *testing.T, a *sqlite.DB) {
	// Add the fields the seed file does not use.
	extra := cdrtest.Answered("x-1", time.Date(2025, 7, 1, 10, 0, 0, 123456000, time.UTC))
	extra.Transfer, extra.Fallback, extra.Note, extra.Target = "blind:CAV-RM-01:ok", true, "asterisk_restart", "CAV-RM-01"
	w := cdrtest.Answered("x-2", time.Date(2025, 7, 1, 11, 0, 0, 0, time.UTC))
	w.CallerHash, w.Withheld = "", true
	if n, err := a.WriteBatch(t.Context(), []cdr.Record{extra, w}); err != nil || n != 2 {
		t.Fatal(err)
	}
	// One month (July, with the two records above) keeps the test quick
	// under -race; volume adds nothing the fuzz test does not cover.
	period := cdr.Filter{From: time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2025, 8, 1, 0, 0, 0, 0, time.UTC)}
	export := func(s cdr.Store) []byte {
		var buf bytes.Buffer
		nw := cdr.NewNeutralWriter(&buf)
		if err := s.Scan(t.Context(), period, func(r *cdr.Record) error { return nw.Write(*r) }); err != nil {
			t.Fatal(err)
		}
		if err := nw.Flush(); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	first := export(a)
	path := filepath.Join(t.TempDir(), "export.jsonl")
	if err := os.WriteFile(path, first, 0o600); err != nil {
		t.Fatal(err)
	}
	b := open(t)
	res, err := importPath(t, b, path)
	if err != nil {
		t.Fatalf("import of an export: %v (bad: %v)", err, res.Bad)
	}
	n, err := a.Count(t.Context(), period)
	if err != nil || n < 10000 || res.Inserted != n {
		t.Fatalf("imported %d of the %d records of July (%v)", res.Inserted, n, err)
	}
	var want []cdr.Record
	a.Scan(t.Context(), period, func(r *cdr.Record) error { want = append(want, *r); return nil })
	i := 0
	b.Scan(t.Context(), cdr.Filter{}, func(r *cdr.Record) error {
		if i >= len(want) {
			t.Fatalf("the copy has more records than were exported")
		}
		if *r != want[i] {
			t.Fatalf("record %d after round trip:\n got %+v\nwant %+v", i, *r, want[i])
		}
		i++
		return nil
	})
	if i != len(want) {
		t.Fatalf("the copy has %d records, want %d", i, len(want))
	}
	if second := export(b); !bytes.Equal(first, second) {
		t.Fatal("exporting the re-imported store gives different bytes")
	}
}

// TestDigitRunsIn checks the leak detector itself, so a silent bug in it
// cannot make TestSeedQuarter pass.
func TestDigitRunsIn(t *testing.T) {
	nums := map[string]bool{"3331234567": true}
	lengths := map[int]bool{10: true}
	for _, tt := range []struct {
		data string
		want int
	}{
		{"xx3331234567yy", 1},
		{"\x00\x0193331234567\x02", 1},
		{"333123456", 0},
		{"333-123-4567", 0},
		{"a3331234567b3331234567", 2},
	} {
		if got := digitRunsIn([]byte(tt.data), nums, lengths); got != tt.want {
			t.Errorf("digitRunsIn(%q) = %d, want %d", tt.data, got, tt.want)
		}
	}
}
