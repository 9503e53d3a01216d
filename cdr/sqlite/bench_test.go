package sqlite_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/helpline-it/helpline/cdr"
	"github.com/helpline-it/helpline/cdr/cdrtest"
	"github.com/helpline-it/helpline/cdr/sqlite"
)

// benchImport imports the file at path into a fresh database per
// iteration and reports records/s.
func benchImport(b *testing.B, path string, workers int) {
	h := testHasher(b)
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	var records int
	var elapsed, cpu time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		db, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), fmt.Sprintf("cdr%d.db", i)), sqlite.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start, cpu0 := time.Now(), cpuTime()
		res, err := cdr.Import(b.Context(), db, bytes.NewReader(data), h, cdr.ImportOptions{Workers: workers})
		elapsed += time.Since(start)
		cpu += cpuTime() - cpu0
		if err != nil {
			b.Fatalf("import: %v (%v)", err, res.Bad)
		}
		records += res.Inserted
		b.StopTimer()
		db.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(records)/elapsed.Seconds(), "records/s")
	// CPU time per record is what to compare on a shared machine, where
	// wall time depends on what else runs.
	b.ReportMetric(float64(cpu.Microseconds())/float64(records), "cpu-µs/record")
}

// cpuTime is the process's user + system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkImportSeed imports the seed quarter (36,002 records, gzipped).
func BenchmarkImportSeed(b *testing.B) {
	benchImport(b, filepath.Join(cdrtest.DataDir(b), cdrtest.SeedFile), 0)
}

// BenchmarkImportSeedOneWorker is the same with sequential decoding, to
// show what the parallel decoders buy.
func BenchmarkImportSeedOneWorker(b *testing.B) {
	benchImport(b, filepath.Join(cdrtest.DataDir(b), cdrtest.SeedFile), 1)
}

// BenchmarkImportSeedExport imports an export of the seed quarter: hashes
// instead of numbers, so no phone-number parsing; what is left is JSON,
// validation and SQLite.
func BenchmarkImportSeedExport(b *testing.B) {
	db, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "src.db"), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	f, err := os.Open(filepath.Join(cdrtest.DataDir(b), cdrtest.SeedFile))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := cdr.Import(b.Context(), db, f, testHasher(b), cdr.ImportOptions{}); err != nil {
		b.Fatal(err)
	}
	f.Close()
	var buf bytes.Buffer
	w := cdr.NewNeutralWriter(&buf)
	if err := db.Scan(b.Context(), cdr.Filter{}, func(r *cdr.Record) error { return w.Write(*r) }); err != nil {
		b.Fatal(err)
	}
	w.Flush()
	db.Close()
	path := filepath.Join(b.TempDir(), "export.jsonl")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	benchImport(b, path, 0)
}

// BenchmarkImportSynthetic1M imports 1,000,000 synthetic records
// (cdrtest.WriteSynthetic, gzipped). Run it with -benchtime=1x.
func BenchmarkImportSynthetic1M(b *testing.B) {
	path := filepath.Join(b.TempDir(), "synthetic-1m.jsonl.gz")
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	zw, _ := gzip.NewWriterLevel(f, gzip.BestSpeed)
	if err := cdrtest.WriteSynthetic(zw, 1_000_000, 1); err != nil {
		b.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	b.ResetTimer()
	benchImport(b, path, 0)
}

// BenchmarkWrite is the latency of one durable Write (commit + fsync),
// what a call pays when its record is written.
func BenchmarkWrite(b *testing.B) {
	db, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "cdr.db"), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := db.Write(b.Context(), cdrtest.Answered(fmt.Sprintf("w%d", i), cdrtest.T0)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTxInsert is the store's share of an import: inserting records
// already decoded (synthetic, 100,000 a round) in one transaction.
func BenchmarkTxInsert(b *testing.B) {
	var buf bytes.Buffer
	if err := cdrtest.WriteSynthetic(&buf, 100_000, 2); err != nil {
		b.Fatal(err)
	}
	h := testHasher(b)
	var recs []cdr.Record
	d, err := cdr.NewNeutralReader(&buf, h, cdr.NeutralOptions{})
	if err != nil {
		b.Fatal(err)
	}
	for {
		r, err := d.Read()
		if err != nil {
			break
		}
		recs = append(recs, r)
	}
	b.ResetTimer()
	var elapsed, cpu time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		db, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), fmt.Sprintf("cdr%d.db", i)), sqlite.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start, cpu0 := time.Now(), cpuTime()
		tx, err := db.Begin(b.Context())
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range recs {
			if _, err := tx.Insert(b.Context(), r); err != nil {
				b.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
		elapsed += time.Since(start)
		cpu += cpuTime() - cpu0
		b.StopTimer()
		db.Close()
		b.StartTimer()
	}
	n := float64(len(recs) * b.N)
	b.ReportMetric(n/elapsed.Seconds(), "records/s")
	b.ReportMetric(float64(cpu.Microseconds())/n, "cpu-µs/record")
}

// BenchmarkScan reads 100,000 records back (what the report does for a
// period), one fresh *cdr.Record each.
func BenchmarkScan(b *testing.B) {
	var buf bytes.Buffer
	if err := cdrtest.WriteSynthetic(&buf, 100_000, 3); err != nil {
		b.Fatal(err)
	}
	db, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "cdr.db"), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if _, err := cdr.Import(b.Context(), db, &buf, testHasher(b), cdr.ImportOptions{}); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	n := 0
	for i := 0; i < b.N; i++ {
		if err := db.Scan(b.Context(), cdr.Filter{}, func(*cdr.Record) error { n++; return nil }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(n), "cpu-ns/record")
}
