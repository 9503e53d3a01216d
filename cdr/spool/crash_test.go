package spool_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/helpline-it/helpline/cdr"
	"github.com/helpline-it/helpline/cdr/cdrtest"
	"github.com/helpline-it/helpline/cdr/spool"
	"github.com/helpline-it/helpline/cdr/sqlite"
)

// burstEnv names the directory the child of TestKill9DuringBurst writes
// into; set only in the child.
const burstEnv = "HELPLINE_SPOOL_BURST_DIR"

const (
	burstWorkers = 4
	burstPerWork = 100000 // far more than are written before the kill
	killAfter    = 300    // acknowledged records before the parent kills
)

// burstRecord is the record the burst writes for worker w's i-th call:
// the parent rebuilds it from the id to check what was stored.
func burstRecord(w, i int) cdr.Record {
	r := cdrtest.Answered(fmt.Sprintf("burst-%d-%d", w, i), cdrtest.T0.Add(time.Duration(i)*time.Second))
	r.Operator = fmt.Sprintf("op%d", 1000+w)
	return r
}

// everyThird refuses one write in three, before touching the store, as a
// disk that fills and frees would: those records go to the spool.
type everyThird struct {
	cdr.Writer
	n atomic.Int64
}

func (e *everyThird) Write(ctx context.Context, r cdr.Record) error {
	if e.n.Add(1)%3 == 0 {
		return errors.New("database or disk is full (injected)")
	}
	return e.Writer.Write(ctx, r)
}

// TestHelperBurstChild is the child of TestKill9DuringBurst: it writes a
// burst of records through store + spool from several goroutines and
// prints "ack <id>" for each, after Write has returned nil, until killed.
func TestHelperBurstChild(t *testing.T) {
	dir := os.Getenv(burstEnv)
	if dir == "" {
		return // the child of TestKill9DuringBurst: runs only when re-executed by it
	}
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "cdr.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sp, err := spool.Open(spool.Options{Dir: filepath.Join(dir, "spool"), SegmentBytes: 16 << 10})
	if err != nil {
		t.Fatal(err)
	}
	w := spool.Fallback{Store: &everyThird{Writer: db}, Spool: sp, Logger: zerolog.Nop()}
	var mu sync.Mutex
	out := bufio.NewWriter(os.Stdout)
	var wg sync.WaitGroup
	for wk := range burstWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range burstPerWork {
				r := burstRecord(wk, i)
				if err := w.Write(ctx, r); err != nil {
					fmt.Fprintf(os.Stderr, "write %s: %v\n", r.ID, err)
					os.Exit(3)
				}
				mu.Lock()
				fmt.Fprintf(out, "ack %s\n", r.ID)
				out.Flush()
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	fmt.Fprintln(out, "done")
	out.Flush()
}

// TestKill9DuringBurst kills (SIGKILL) a process in the middle of a burst
// of record writes (two thirds into the store, a third into the spool),
// then replays the spool and checks that every record the process
// acknowledged is stored exactly once, that nothing else is stored but
// the records in flight at the kill, and that every stored record is
// intact.
func TestKill9DuringBurst(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperBurstChild$", "-test.count=1", "-test.v=false")
	cmd.Env = append(os.Environ(), burstEnv+"="+dir)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acked := map[string]bool{}
	sc := bufio.NewScanner(stdout)
	killed := false
	for sc.Scan() {
		line := sc.Text()
		if line == "done" {
			t.Fatalf("the child finished its burst before the kill; raise burstPerWork")
		}
		id, ok := strings.CutPrefix(line, "ack ")
		if !ok {
			continue
		}
		if acked[id] {
			t.Fatalf("child acknowledged %s twice", id)
		}
		acked[id] = true
		if len(acked) == killAfter && !killed {
			if err := cmd.Process.Kill(); err != nil { // SIGKILL
				t.Fatal(err)
			}
			killed = true
		}
	}
	err = cmd.Wait()
	if !killed {
		t.Fatalf("child exited before the kill: %v\n%s", err, stderr.String())
	}
	if ws, ok := cmd.ProcessState.Sys().(interface{ Signaled() bool }); !ok || !ws.Signaled() {
		t.Fatalf("child was not killed by a signal: %v\n%s", err, stderr.String())
	}

	// After the crash: the store, and a replay of the spool.
	ctx := t.Context()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "cdr.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	direct, err := db.Count(ctx, cdr.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	e := open(t, filepath.Join(dir, "spool"), 0)
	rp, err := spool.NewReplayer(e.sp, db, spool.ReplayerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := rp.Replay(ctx)
	if err != nil || res.Corrupt != 0 || res.Rejected != 0 {
		t.Fatalf("Replay = %+v, %v; want no error, nothing corrupt or rejected", res, err)
	}
	if res.Replayed < killAfter/4 {
		t.Fatalf("replayed %d records; the burst should have spooled about a third of %d", res.Replayed, len(acked))
	}
	t.Logf("acked %d before the kill was seen; %d stored directly, %d replayed from the spool (%d torn tails)",
		len(acked), direct, res.Replayed, res.Torn)

	stored := map[string]bool{}
	err = db.Scan(ctx, cdr.Filter{}, func(r *cdr.Record) error {
		if stored[r.ID] {
			return fmt.Errorf("record %s scanned twice", r.ID)
		}
		stored[r.ID] = true
		var w, i int
		if _, err := fmt.Sscanf(r.ID, "burst-%d-%d", &w, &i); err != nil || w < 0 || w >= burstWorkers {
			return fmt.Errorf("stored record %q is not one the burst wrote", r.ID)
		}
		if want := burstRecord(w, i).Canonical(); *r != want {
			return fmt.Errorf("record %s stored as %+v, want %+v", r.ID, *r, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for id := range acked {
		if !stored[id] {
			t.Errorf("acknowledged record %s was lost", id)
		}
	}
	unacked := 0
	for id := range stored {
		if !acked[id] {
			unacked++
		}
	}
	// Each worker has at most one write in flight, whose ack the kill
	// may have cut off; and the parent stops counting at the kill while
	// up to one more ack per worker may be in the pipe.
	if unacked > burstWorkers {
		t.Errorf("%d records stored without an ack; at most %d (one in flight per worker) may be", unacked, burstWorkers)
	}
	if n, err := db.Count(ctx, cdr.Filter{}); err != nil || n != len(stored) {
		t.Fatalf("Count = %d, %v; want %d distinct records", n, err, len(stored))
	}
	// Nothing is left to replay, and a second replay adds nothing.
	if segs := segments(t, filepath.Join(dir, "spool")); len(segs) != 0 {
		t.Fatalf("segments left after the replay: %v", segs)
	}
	if res, err := rp.Replay(ctx); err != nil || res.Replayed != 0 {
		t.Fatalf("second Replay = %+v, %v; want nothing", res, err)
	}
}
