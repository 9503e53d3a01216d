package report

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/helpline-it/helpline/cdr"
	"github.com/helpline-it/helpline/cdr/memory"
	"github.com/helpline-it/helpline/cdr/sqlite"
)

// callsOn returns n welcome-hang-up calls spread over the local day d.
func callsOn(prefix string, d time.Time, n int) []cdr.Record {
	var out []cdr.Record
	for i := range n {
		at := d.Add(time.Duration(i) * 24 * time.Hour / time.Duration(n))
		out = append(out, call(fmt.Sprintf("%s-%d", prefix, i), at.UTC(), cdr.WelcomeHangup))
	}
	return out
}

func memStore(t *testing.T, recs []cdr.Record) *memory.Store {
	t.Helper()
	s := memory.New()
	if _, err := s.WriteBatch(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestFromStorePrevious(t *testing.T) {
	loc := rome(t)
	summer, err := NewPeriod("2025-06-01", "2025-09-01", loc)
	if err != nil {
		t.Fatal(err)
	}
	day := func(m time.Month, d int) time.Time { return time.Date(2025, m, d, 0, 0, 0, 0, loc) }
	var current []cdr.Record
	current = append(current, callsOn("jun", day(6, 10), 60)...)
	current = append(current, callsOn("aug", day(8, 31), 47)...)

	tests := []struct {
		name      string
		prev      []cdr.Record
		known     bool
		total     int64
		change    float64
		changeKnw bool
	}{
		{"no previous data", nil, false, 0, 0, false},
		{"full previous period", append(callsOn("mar", day(3, 1), 50), callsOn("may", day(5, 31), 50)...), true, 100, 7, true},
		{"previous data from before it", append(callsOn("feb", day(2, 27), 5), callsOn("apr", day(4, 2), 200)...), true, 200, -46.5, true},
		// The store starts in April: March is missing, a comparison would
		// show a rise that is only missing records.
		{"store starts mid-period", callsOn("apr", day(4, 2), 20), false, 0, 0, false},
		// Data before the previous period, none inside it: a real zero
		// would be news on a 24-hour line, but it is not a base for a %.
		{"data before, none inside", callsOn("jan", day(1, 10), 3), false, 0, 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			recs := append(append([]cdr.Record(nil), current...), tc.prev...)
			res, err := FromStore(context.Background(), memStore(t, recs), summer, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if res.Inbound.Total != 107 {
				t.Fatalf("current total = %d; want 107", res.Inbound.Total)
			}
			p := res.Previous
			if p.Known != tc.known || p.Total != tc.total || p.ChangeKnown != tc.changeKnw || p.ChangePercent != tc.change {
				t.Errorf("previous = %+v; want known %v total %d change %v (%v)", p, tc.known, tc.total, tc.change, tc.changeKnw)
			}
			if got, want := p.Period.From.Format(dateLayout)+".."+p.Period.To.Format(dateLayout), "2025-03-01..2025-06-01"; got != want {
				t.Errorf("previous period = %s; want %s", got, want)
			}
		})
	}
}

type failingSource struct{ Source }

var errBroken = errors.New("disk on fire")

func (failingSource) Scan(context.Context, cdr.Filter, func(*cdr.Record) error) error {
	return errBroken
}

func TestFromStoreError(t *testing.T) {
	p, err := NewPeriod("2025-06-01", "2025-09-01", rome(t))
	if err != nil {
		t.Fatal(err)
	}
	_, err = FromStore(context.Background(), failingSource{memory.New()}, p, Options{})
	if !errors.Is(err, errBroken) {
		t.Errorf("err = %v; want it to wrap the store's error", err)
	}
}

type fixedLogins map[string]time.Duration

func (f fixedLogins) LoginHours(context.Context, time.Time, time.Time) (map[string]time.Duration, error) {
	return f, nil
}

func TestFromStoreLoginHoursSeam(t *testing.T) {
	p, err := NewPeriod("2025-06-01", "2025-09-01", rome(t))
	if err != nil {
		t.Fatal(err)
	}
	s := memStore(t, []cdr.Record{call("a", time.Date(2025, 6, 2, 8, 0, 0, 0, time.UTC), cdr.Answered)})
	res, err := FromStore(context.Background(), s, p, Options{Login: fixedLogins{"op1": 7 * time.Hour, "op9": time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	if !res.LoginHoursKnown || len(res.Operators) != 2 || res.Operators[0].LoggedIn != 7*time.Hour || res.Operators[1].Operator != "op9" {
		t.Errorf("operators = %+v", res.Operators)
	}
}

// TestSeedThroughSQLite imports the seed quarter into SQLite and checks
// that the report read back through the store is byte for byte the
// golden JSON: the store path loses nothing the report needs.
func TestSeedThroughSQLite(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "cdr.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.WriteBatch(ctx, loadSeed(t)); err != nil {
		t.Fatal(err)
	}
	p, err := NewPeriod("2025-06-01", "2025-09-01", rome(t))
	if err != nil {
		t.Fatal(err)
	}
	res, err := FromStore(ctx, db, p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteJSON(&buf, &res); err != nil {
		t.Fatal(err)
	}
	golden(t, "seed-quarter.json", buf.Bytes())
}
