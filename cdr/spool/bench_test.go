package spool_test

import (
	"fmt"
	"testing"

	"github.com/helpline-it/helpline/cdr/cdrtest"
	"github.com/helpline-it/helpline/cdr/memory"
	"github.com/helpline-it/helpline/cdr/spool"
)

// BenchmarkWrite is one spooled record: encode, frame, write, fsync.
func BenchmarkWrite(b *testing.B) {
	sp, err := spool.Open(spool.Options{Dir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { sp.Close() })
	r := cdrtest.Answered("x", cdrtest.T0)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r.ID = fmt.Sprint("bench-", i)
		if err := sp.Write(b.Context(), r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReplay replays 1,000 spooled records into an in-memory store
// (read, decode, store, delete the segments).
func BenchmarkReplay(b *testing.B) {
	const n = 1000
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		sp, err := spool.Open(spool.Options{Dir: b.TempDir()})
		if err != nil {
			b.Fatal(err)
		}
		for j := range n {
			if err := sp.Write(b.Context(), cdrtest.Answered(fmt.Sprint("r-", j), cdrtest.T0)); err != nil {
				b.Fatal(err)
			}
		}
		rp, err := spool.NewReplayer(sp, memory.New(), spool.ReplayerOptions{})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		res, err := rp.Replay(b.Context())
		if err != nil || res.Replayed != n {
			b.Fatalf("Replay = %+v, %v", res, err)
		}
		b.StopTimer()
		sp.Close()
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "records/s")
}
