package spool_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/helpline-it/helpline/cdr"
	"github.com/helpline-it/helpline/cdr/spool"
	"github.com/helpline-it/helpline/cdr/sqlite"
)

// TestFullDiskSpoolsAndReplays fills a real SQLite database (its
// max_page_count capped at the size it has: SQLite then fails writes with
// SQLITE_FULL, its disk-full path, which works even for root, unlike a
// read-only directory): the records the store refuses go to the spool
// with a loud error, and once the disk has room again the replayer stores
// every one of them exactly once.
func TestFullDiskSpoolsAndReplays(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "cdr.db")
	// Create the schema, then measure the file: that is the cap.
	db, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	pages := int(st.Size() / 4096)
	full, err := sqlite.Open(ctx, path, sqlite.Options{MaxPages: pages})
	if err != nil {
		t.Fatalf("open with max_page_count %d: %v", pages, err)
	}
	e := open(t, filepath.Join(t.TempDir(), "spool"), 0)
	w := spool.Fallback{Store: full, Spool: e.sp, Logger: zerolog.New(e.log)}

	recs := records(300, "in")
	for _, r := range recs {
		if err := w.Write(ctx, r); err != nil {
			t.Fatalf("Write(%s) = %v, want nil (stored or spooled)", r.ID, err)
		}
	}
	direct, err := full.Count(ctx, cdr.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	spooled := e.metric(t, "helpline_cdr_spool_records_spooled_total")
	if spooled == 0 || direct+int(spooled) != len(recs) {
		t.Fatalf("%d stored + %v spooled, want some spooled and %d in all", direct, spooled, len(recs))
	}
	log := e.log.String()
	if !strings.Contains(log, "SPOOLED") || !strings.Contains(log, "full") {
		t.Fatalf("no loud error naming the full disk:\n%.2000s", log)
	}
	if got := e.metric(t, "helpline_cdr_spool_records"); got != spooled {
		t.Fatalf("spool records gauge = %v, want %v", got, spooled)
	}

	// While the disk is full a replay stores nothing and keeps everything.
	rp, err := spool.NewReplayer(e.sp, full, spool.ReplayerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rp.Replay(ctx); err == nil || !strings.Contains(err.Error(), "full") {
		t.Fatalf("Replay on a full disk = %v, want the disk-full error", err)
	}
	if got := e.metric(t, "helpline_cdr_spool_records"); got != spooled {
		t.Fatalf("spool records after a failed replay = %v, want %v kept", got, spooled)
	}

	// The fault clears: room on the disk (the store reopened uncapped).
	if err := full.Close(); err != nil {
		t.Fatal(err)
	}
	roomy, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { roomy.Close() })
	rp, err = spool.NewReplayer(e.sp, roomy, spool.ReplayerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := rp.Replay(context.WithoutCancel(ctx))
	if err != nil || res.Replayed != int(spooled) {
		t.Fatalf("Replay = %+v, %v; want %v replayed", res, err, spooled)
	}
	mustGetAll(t, roomy, recs)
	if got := e.metric(t, "helpline_cdr_spool_records"); got != 0 {
		t.Fatalf("spool records after the replay = %v, want 0", got)
	}
}
