package report

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/helpline-it/helpline/cdr"
	"github.com/helpline-it/helpline/cdr/sqlite"
)

// synthetic makes n records over the summer quarter with the seed's mix
// of outcomes (and 4 % outbound calls), deterministically, in time order.
func synthetic(n int, loc *time.Location) []cdr.Record {
	rng := rand.New(rand.NewPCG(1522, 2025))
	start := time.Date(2025, 6, 1, 0, 0, 0, 0, loc).UTC()
	span := time.Date(2025, 9, 1, 0, 0, 0, 0, loc).UTC().Sub(start)
	langs := []string{"it", "it", "it", "it", "it", "it", "it", "it", "en", "fr", "es", "ar", "de"}
	recs := make([]cdr.Record, n)
	for i := range recs {
		at := start.Add(time.Duration(rng.Int64N(int64(span))))
		r := cdr.Record{ID: fmt.Sprintf("syn-%08d", i), ArrivedAt: at, Direction: cdr.Inbound,
			CallerHash: fmt.Sprintf("%064x", rng.Uint64())}
		op := fmt.Sprintf("op%04d", 1001+rng.IntN(40))
		switch x := rng.IntN(1000); {
		case x < 40: // outbound
			r.Direction, r.CallerHash, r.CalleeHash, r.Operator = cdr.Outbound, "", fmt.Sprintf("%064x", rng.Uint64()), op
			switch y := rng.IntN(100); {
			case y < 66:
				r.Outcome = cdr.Answered
				r.ConnectedAt = at.Add(time.Duration(5+rng.IntN(20)) * time.Second)
				r.EndedAt = r.ConnectedAt.Add(time.Duration(30+rng.IntN(300)) * time.Second)
			case y < 74:
				r.Outcome, r.EndedAt = cdr.Busy, at.Add(3*time.Second)
			case y < 99:
				r.Outcome, r.EndedAt = cdr.NoAnswer, at.Add(40*time.Second)
			default:
				r.Outcome, r.EndedAt = cdr.Failed, at.Add(time.Second)
			}
		case x < 211:
			r.Outcome, r.EndedAt = cdr.Blacklisted, at.Add(time.Second)
		case x < 488:
			r.Outcome, r.EndedAt = cdr.WelcomeHangup, at.Add(time.Duration(1+rng.IntN(40))*time.Second)
		default:
			r.Language = langs[rng.IntN(len(langs))]
			r.QueuedAt = at.Add(time.Duration(20+rng.IntN(20)) * time.Second)
			wait := time.Duration(rng.ExpFloat64() * 36.5 * float64(time.Second)).Truncate(time.Second)
			switch y := rng.IntN(1000); {
			case y < 862:
				r.Outcome, r.Operator = cdr.Answered, op
				r.ConnectedAt = r.QueuedAt.Add(wait)
				r.EndedAt = r.ConnectedAt.Add(time.Duration(30+rng.IntN(660)) * time.Second)
			case y < 946:
				r.Outcome, r.EndedAt = cdr.Abandoned, r.QueuedAt.Add(wait)
			case y < 997:
				r.Outcome, r.EndedAt = cdr.Unanswered, r.QueuedAt.Add(5*time.Minute)
			default:
				r.Outcome, r.EndedAt = cdr.Voicemail, r.QueuedAt.Add(wait+time.Minute)
			}
		}
		recs[i] = r
	}
	// A switchboard writes records as calls end, so the store's physical
	// order follows time; random order would measure cache misses of a
	// database nobody has.
	slices.SortFunc(recs, func(a, b cdr.Record) int { return a.ArrivedAt.Compare(b.ArrivedAt) })
	return recs
}

func summer(b *testing.B) Period {
	b.Helper()
	p, err := NewPeriod("2025-06-01", "2025-09-01", rome(b))
	if err != nil {
		b.Fatal(err)
	}
	return p
}

// benchRender is shared by the computation benchmarks: build the result
// and render it as text, the whole job of `helpline report` minus I/O.
func benchBuild(b *testing.B, recs []cdr.Record) {
	p := summer(b)
	b.ReportAllocs()
	cpu := startCPU(b)
	for b.Loop() {
		res := Build(p, "", each(recs))
		if err := WriteText(io.Discard, &res, Italian); err != nil {
			b.Fatal(err)
		}
	}
	cpu.report(b)
	b.ReportMetric(float64(len(recs)), "records")
}

// cpuMeter reports the process CPU time (user + system, every thread,
// the garbage collector's included) per operation beside the wall time:
// on a machine shared with other jobs the wall time measures the
// neighbours as much as the code.
type cpuMeter struct{ start time.Duration }

func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func startCPU(b *testing.B) cpuMeter { return cpuMeter{start: cpuTime(b)} }

func (m cpuMeter) report(b *testing.B) {
	b.ReportMetric(float64(cpuTime(b)-m.start)/float64(b.N), "cpu-ns/op")
}

// BenchmarkBuildSeed is the seed quarter (36.002 records) already in
// memory: the pure computation.
func BenchmarkBuildSeed(b *testing.B) { benchBuild(b, loadSeed(b)) }

// BenchmarkBuild1M is one million synthetic records in memory.
func BenchmarkBuild1M(b *testing.B) { benchBuild(b, synthetic(1_000_000, rome(b))) }

// sqliteWith writes recs into a fresh cdr/sqlite database.
func sqliteWith(b *testing.B, recs []cdr.Record) *sqlite.DB {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "cdr.db"), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	for chunk := range sliceChunks(recs, 50_000) {
		if _, err := db.WriteBatch(ctx, chunk); err != nil {
			b.Fatal(err)
		}
	}
	return db
}

func benchSQLite(b *testing.B, recs []cdr.Record) {
	ctx := context.Background()
	db := sqliteWith(b, recs)
	p := summer(b)
	b.ReportAllocs()
	cpu := startCPU(b)
	for b.Loop() {
		res, err := FromStore(ctx, db, p, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if err := WriteText(io.Discard, &res, Italian); err != nil {
			b.Fatal(err)
		}
	}
	cpu.report(b)
	b.ReportMetric(float64(len(recs)), "records")
}

func sliceChunks(recs []cdr.Record, n int) func(func([]cdr.Record) bool) {
	return func(yield func([]cdr.Record) bool) {
		for len(recs) > 0 {
			k := min(n, len(recs))
			if !yield(recs[:k]) {
				return
			}
			recs = recs[k:]
		}
	}
}

// BenchmarkSQLiteSeed reads the seed quarter back from SQLite (scan of the
// period and of the previous one, computation, text rendering).
func BenchmarkSQLiteSeed(b *testing.B) { benchSQLite(b, loadSeed(b)) }

// BenchmarkSQLite1M does the same over one million synthetic records.
func BenchmarkSQLite1M(b *testing.B) { benchSQLite(b, synthetic(1_000_000, rome(b))) }

// benchLean is an EXPERIMENT, not a code path of the report: how fast
// could the report read SQLite if cdr offered a scan of only the 9
// columns it uses, into one reused record? It reads cdr/sqlite's table
// directly (its schema is cdr's business; this only sizes the request
// made to cdr in BENCHMARKS.md).
func benchLean(b *testing.B, recs []cdr.Record) {
	ctx := context.Background()
	db := sqliteWith(b, recs)
	raw, err := sql.Open("sqlite", db.Path()+"?_pragma=query_only(1)")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { raw.Close() })
	p := summer(b)
	intern := map[string]string{}
	str := func(v sql.RawBytes) string {
		if s, ok := intern[string(v)]; ok {
			return s
		}
		s := string(v)
		intern[s] = s
		return s
	}
	tm := func(v sql.NullInt64) time.Time {
		if !v.Valid {
			return time.Time{}
		}
		return time.UnixMicro(v.Int64)
	}
	b.ReportAllocs()
	cpu := startCPU(b)
	for b.Loop() {
		rows, err := raw.QueryContext(ctx, `SELECT direction, service, outcome, arrived_at, queued_at, connected_at, ended_at, language, operator
			FROM cdr WHERE arrived_at >= ? AND arrived_at < ? ORDER BY arrived_at, id`, p.Start().UnixMicro(), p.End().UnixMicro())
		if err != nil {
			b.Fatal(err)
		}
		acc := NewAccumulator(p, "")
		var r cdr.Record
		var dir, svc, out, lang, op sql.RawBytes
		var arrived int64
		var queued, connected, ended sql.NullInt64
		for rows.Next() {
			if err := rows.Scan(&dir, &svc, &out, &arrived, &queued, &connected, &ended, &lang, &op); err != nil {
				b.Fatal(err)
			}
			r = cdr.Record{Direction: cdr.Direction(str(dir)), Service: str(svc), Outcome: cdr.Outcome(str(out)),
				ArrivedAt: time.UnixMicro(arrived), QueuedAt: tm(queued), ConnectedAt: tm(connected), EndedAt: tm(ended),
				Language: str(lang), Operator: str(op)}
			acc.Add(&r)
		}
		if err := rows.Err(); err != nil {
			b.Fatal(err)
		}
		rows.Close()
		res := acc.Result()
		if res.Inbound.Total == 0 {
			b.Fatal("nothing read")
		}
		if err := WriteText(io.Discard, &res, Italian); err != nil {
			b.Fatal(err)
		}
	}
	cpu.report(b)
	b.ReportMetric(float64(len(recs)), "records")
}

// BenchmarkLeanSQLiteSeed: the experiment over the seed quarter.
func BenchmarkLeanSQLiteSeed(b *testing.B) { benchLean(b, loadSeed(b)) }

// BenchmarkLeanSQLite1M: the experiment over one million records.
func BenchmarkLeanSQLite1M(b *testing.B) { benchLean(b, synthetic(1_000_000, rome(b))) }
