package postgres_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/helpline-it/helpline/cdr"
	"github.com/helpline-it/helpline/cdr/cdrtest"
	"github.com/helpline-it/helpline/cdr/postgres"
	"github.com/helpline-it/helpline/internal/testenv"
	"github.com/helpline-it/helpline/report"
)

// pgDurable is the benchmarks' server: unlike the tests' it fsyncs every
// commit, as production does, so write figures include the flush.
var pgDurable = testenv.SharedPostgres{Args: []string{
	"-c", "fsync=on", "-c", "synchronous_commit=on", "-c", "full_page_writes=on",
}}

// seedCache decodes the seed quarter once per benchmark binary.
var seedCache struct {
	once sync.Once
	recs []cdr.Record
	file []byte
}

func seed(b *testing.B) ([]cdr.Record, []byte) {
	b.Helper()
	seedCache.once.Do(func() {
		seedCache.recs = readSeed(b, time.Time{})
		data, err := os.ReadFile(filepath.Join(cdrtest.DataDir(b), cdrtest.SeedFile))
		if err != nil {
			b.Fatal(err)
		}
		seedCache.file = data
	})
	if seedCache.recs == nil {
		b.Fatal("seed not decoded")
	}
	return seedCache.recs, seedCache.file
}

func openDurable(b *testing.B) *postgres.DB {
	b.Helper()
	db, err := postgres.Open(b.Context(), pgDurable.NewDatabase(b), postgres.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

// cpuTime is this process's user + system CPU time so far (the server's
// CPU is not in it).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchLoad stores the seed quarter into a fresh database per iteration
// with load, checks that all of it is new, and reports records/s (wall) and the client's CPU µs/record.
func benchLoad(b *testing.B, load func(db *postgres.DB) (int, error)) {
	var records int
	var elapsed, cpu time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		db := openDurable(b)
		b.StartTimer()
		start, cpu0 := time.Now(), cpuTime()
		n, err := load(db)
		elapsed += time.Since(start)
		cpu += cpuTime() - cpu0
		if err != nil {
			b.Fatal(err)
		}
		if want := len(seedCache.recs); n != want {
			b.Fatalf("stored %d records, want the seed's %d", n, want)
		}
		records += n
	}
	b.ReportMetric(float64(records)/elapsed.Seconds(), "records/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(records), "client-cpu-µs/record")
}

// BenchmarkImportSeed: cdr.Import of the seed file (numbers hashed,
// records stored one Tx.Insert at a time in one transaction).
func BenchmarkImportSeed(b *testing.B) {
	_, file := seed(b)
	h := testHasher(b)
	benchLoad(b, func(db *postgres.DB) (int, error) {
		res, err := cdr.Import(b.Context(), db, bytes.NewReader(file), h, cdr.ImportOptions{})
		return res.Inserted, err
	})
}

// BenchmarkImportSeedExport: cdr.Import of an export of the seed (hashes,
// no numbers to parse): what is left is JSON and the store's Tx.Insert.
func BenchmarkImportSeedExport(b *testing.B) {
	recs, _ := seed(b)
	var export bytes.Buffer
	w := cdr.NewNeutralWriter(&export)
	for _, r := range recs {
		if err := w.Write(r); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	h := testHasher(b)
	benchLoad(b, func(db *postgres.DB) (int, error) {
		res, err := cdr.Import(b.Context(), db, bytes.NewReader(export.Bytes()), h, cdr.ImportOptions{})
		return res.Inserted, err
	})
}

// BenchmarkWriteBatchSeed: the decoded seed through WriteBatch (multi-row
// INSERTs, one transaction).
func BenchmarkWriteBatchSeed(b *testing.B) {
	recs, _ := seed(b)
	benchLoad(b, func(db *postgres.DB) (int, error) { return db.WriteBatch(b.Context(), recs) })
}

// BenchmarkWrite: one durable record (a commit flushed to the WAL), as at
// the end of every call.
func BenchmarkWrite(b *testing.B) {
	db := openDurable(b)
	r := cdrtest.Answered("", cdrtest.T0)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r.ID = "w" + strconv.Itoa(i)
		if err := db.Write(b.Context(), r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReportSeed: the quarterly report (report.FromStore: one Scan of
// the quarter, one Count of the previous one) over the seed in PostgreSQL.
func BenchmarkReportSeed(b *testing.B) {
	recs, _ := seed(b)
	db := openDurable(b)
	if _, err := db.WriteBatch(b.Context(), recs); err != nil {
		b.Fatal(err)
	}
	want := cdrtest.LoadExpected(b)
	rome, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		b.Fatal(err)
	}
	period, err := report.NewPeriod(want.Start, want.End, rome)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		res, err := report.FromStore(b.Context(), db, period, report.Options{})
		if err != nil {
			b.Fatal(err)
		}
		if res.Inbound.Total != int64(want.Total) {
			b.Fatalf("total %d, want %d", res.Inbound.Total, want.Total)
		}
	}
	b.ReportMetric(float64(len(recs)*b.N)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(len(recs)*b.N), "client-cpu-µs/record")
}

// BenchmarkScanSeed: Scan alone over the quarter (cursor fetches and row
// decoding), the store's part of the report.
func BenchmarkScanSeed(b *testing.B) {
	recs, _ := seed(b)
	db := openDurable(b)
	if _, err := db.WriteBatch(b.Context(), recs); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		n := 0
		if err := db.Scan(b.Context(), cdr.Filter{}, func(*cdr.Record) error { n++; return nil }); err != nil {
			b.Fatal(err)
		}
		if n != len(recs) {
			b.Fatalf("scanned %d, want %d", n, len(recs))
		}
	}
	b.ReportMetric(float64(len(recs)*b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkTxInsertSeed: the store's part of an import alone: the decoded
// seed through Tx.Insert, one round trip a record, in one transaction.
func BenchmarkTxInsertSeed(b *testing.B) {
	recs, _ := seed(b)
	benchLoad(b, func(db *postgres.DB) (int, error) {
		tx, err := db.Begin(b.Context())
		if err != nil {
			return 0, err
		}
		defer tx.Rollback()
		n := 0
		for _, r := range recs {
			ok, err := tx.Insert(b.Context(), r)
			if err != nil {
				return n, err
			}
			if ok {
				n++
			}
		}
		return n, tx.Commit()
	})
}

// BenchmarkTxInsertBatchSeed: the same through the Tx's InsertBatch in
// batches of 1024 (cdr.Import's batch size), one round trip a batch.
func BenchmarkTxInsertBatchSeed(b *testing.B) {
	recs, _ := seed(b)
	benchLoad(b, func(db *postgres.DB) (int, error) {
		tx, err := db.Begin(b.Context())
		if err != nil {
			return 0, err
		}
		defer tx.Rollback()
		bi := tx.(interface {
			InsertBatch(ctx context.Context, recs []cdr.Record) (int, error)
		})
		n := 0
		for start := 0; start < len(recs); start += 1024 {
			k, err := bi.InsertBatch(b.Context(), recs[start:min(start+1024, len(recs))])
			if err != nil {
				return n, err
			}
			n += k
		}
		return n, tx.Commit()
	})
}

// BenchmarkCopyBatchSeed is an experiment, not a code path: the seed
// through COPY into a temporary table and one INSERT … SELECT … ON
// CONFLICT DO NOTHING, against BenchmarkWriteBatchSeed's multi-row INSERTs.
func BenchmarkCopyBatchSeed(b *testing.B) {
	recs, _ := seed(b)
	benchLoad(b, func(db *postgres.DB) (int, error) {
		tx, err := db.Begin(b.Context())
		if err != nil {
			return 0, err
		}
		defer tx.Rollback()
		n, err := postgres.CopyBatch(b.Context(), tx, recs)
		if err != nil {
			return 0, err
		}
		return n, tx.Commit()
	})
}
