package postgres_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/helpline-it/helpline/callerid"
	"github.com/helpline-it/helpline/cdr"
	"github.com/helpline-it/helpline/cdr/cdrtest"
	"github.com/helpline-it/helpline/cdr/postgres"
	"github.com/helpline-it/helpline/cdr/sqlite"
	"github.com/helpline-it/helpline/report"
)

func testHasher(tb testing.TB) *callerid.Hasher {
	tb.Helper()
	h, err := callerid.NewHasher([]byte("postgres-test-key-0123456789abcdef"))
	if err != nil {
		tb.Fatal(err)
	}
	return h
}

// readSeed decodes the seed quarter (data dir from HELPLINE_DATA, default
// ../shared/data beside the module) with cdr.NeutralReader, up to the
// first record arriving at or after until (the file is in arrival order;
// a zero until reads it all). Every line must be good.
func readSeed(tb testing.TB, until time.Time) []cdr.Record {
	tb.Helper()
	f, err := os.Open(filepath.Join(cdrtest.DataDir(tb), cdrtest.SeedFile))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	nr, err := cdr.NewNeutralReader(f, testHasher(tb), cdr.NeutralOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	var recs []cdr.Record
	for {
		r, err := nr.Read()
		if errors.Is(err, io.EOF) {
			return recs
		}
		if err != nil {
			tb.Fatalf("seed line %d: %v", nr.Line(), err)
		}
		if !until.IsZero() && !r.ArrivedAt.Before(until) {
			return recs
		}
		recs = append(recs, r)
	}
}

// TestSeedReportMatchesSQLite stores the seed quarter in SQLite and in
// PostgreSQL and requires the same quarterly report, byte for byte, from
// both: every count, duration, the weekday × hour table (which only comes
// out right if every arrived_at survived exactly) and the comparison with
// the previous period (Count over an empty range). The two stores must
// also give back every record identically and in the same order.
//
// Under -race it uses the quarter's first ten days (see raceEnabled); run
// `go test -run SeedReport ./cdr/postgres/` for the whole quarter.
func TestSeedReportMatchesSQLite(t *testing.T) {
	t.Parallel()
	want := cdrtest.LoadExpected(t)
	rome, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		t.Fatal(err)
	}
	end := want.End
	if raceEnabled {
		end = "2025-06-11"
		t.Logf("race detector on: comparing %s to %s only", want.Start, end)
	}
	period, err := report.NewPeriod(want.Start, end, rome)
	if err != nil {
		t.Fatal(err)
	}
	recs := readSeed(t, period.End())
	if !raceEnabled && len(recs) != want.Total+want.OutTotal {
		t.Fatalf("decoded %d seed records, want %d", len(recs), want.Total+want.OutTotal)
	}
	ctx := t.Context()

	lite, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "cdr.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lite.Close() })
	pgdb, _ := open(t)
	for name, s := range map[string]cdr.Store{"sqlite": lite, "postgres": pgdb} {
		n, err := s.WriteBatch(ctx, recs)
		if err != nil || n != len(recs) {
			t.Fatalf("%s: WriteBatch(seed) = %d, %v; want %d", name, n, err, len(recs))
		}
	}

	reportJSON := func(s cdr.Store, service string) []byte {
		t.Helper()
		res, err := report.FromStore(ctx, s, period, report.Options{Service: service})
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := report.WriteJSON(&b, &res); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	for _, service := range []string{"", "1522"} {
		fromLite, fromPG := reportJSON(lite, service), reportJSON(pgdb, service)
		if !bytes.Equal(fromLite, fromPG) {
			t.Errorf("service %q: reports differ\nsqlite:   %s\npostgres: %s", service, fromLite, fromPG)
		}
	}
	res, err := report.FromStore(ctx, pgdb, period, report.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Inbound.Total == 0 || (!raceEnabled && (res.Inbound.Total != int64(want.Total) || res.Inbound.Answered != int64(want.Answered))) {
		t.Errorf("postgres report: total %d, answered %d; the seed publishes %d, %d for the quarter",
			res.Inbound.Total, res.Inbound.Answered, want.Total, want.Answered)
	}

	// Record by record, in scan order, over the full range and a
	// one-direction slice with bounds inside the period.
	for _, f := range []cdr.Filter{{}, {Direction: cdr.Outbound, From: period.Start().Add(3 * 24 * time.Hour), To: period.End().Add(-time.Microsecond)}} {
		a, b := scanAll(t, lite, f), scanAll(t, pgdb, f)
		if len(a) != len(b) || len(a) == 0 {
			t.Fatalf("Scan(%+v): sqlite %d records, postgres %d", f, len(a), len(b))
		}
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("Scan(%+v) record %d differs:\nsqlite   %+v\npostgres %+v", f, i, a[i], b[i])
			}
		}
	}
}

func scanAll(t *testing.T, s cdr.Store, f cdr.Filter) []cdr.Record {
	t.Helper()
	var out []cdr.Record
	if err := s.Scan(t.Context(), f, func(r *cdr.Record) error { out = append(out, *r); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestImportSeedDays runs cdr.Import (Tx.Insert, one record at a time in
// one transaction) into PostgreSQL over ten days of the seed, exported
// with hashes, then again: the second import adds nothing. Ten days keep
// -race runs short; the whole quarter goes through WriteBatch above and
// Import in the benchmarks.
func TestImportSeedDays(t *testing.T) {
	t.Parallel()
	db, _ := open(t)
	var month bytes.Buffer
	w := cdr.NewNeutralWriter(&month)
	june := 0
	for _, r := range readSeed(t, time.Date(2025, 6, 11, 0, 0, 0, 0, time.UTC)) {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
		june++
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	h := testHasher(t)
	res, err := cdr.Import(t.Context(), db, bytes.NewReader(month.Bytes()), h, cdr.ImportOptions{})
	if err != nil || res.Inserted != june || res.Duplicates != 0 {
		t.Fatalf("Import = %+v, %v; want %d inserted", res, err, june)
	}
	res, err = cdr.Import(t.Context(), db, bytes.NewReader(month.Bytes()), h, cdr.ImportOptions{})
	if err != nil || res.Inserted != 0 || res.Duplicates != june {
		t.Fatalf("re-Import = %+v, %v; want %d duplicates", res, err, june)
	}
	if n, err := db.Count(t.Context(), cdr.Filter{}); err != nil || n != june {
		t.Fatalf("Count = %d, %v; want %d", n, err, june)
	}
}

var _ cdr.Store = (*postgres.DB)(nil)
