package journal_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/helpline-it/helpline/cdr"
	"github.com/helpline-it/helpline/internal/testenv"
	"github.com/helpline-it/helpline/ivr"
	"github.com/helpline-it/helpline/ivr/journal"
)

func TestJournals(t *testing.T) {
	r := testenv.StartRedis(t)
	rdb := redis.NewClient(&redis.Options{Addr: r.Addr})
	t.Cleanup(func() { _ = rdb.Close() })
	for name, j := range map[string]ivr.Journal{
		"redis":  journal.NewRedis(rdb, "test:", "node1"),
		"memory": journal.NewMemory(),
	} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			at := time.Date(2026, 11, 23, 14, 0, 0, 0, time.UTC)
			a := cdr.Record{ID: "a", Direction: cdr.Inbound, ArrivedAt: at, CallerHash: "h1"}
			b := cdr.Record{ID: "b", Direction: cdr.Inbound, ArrivedAt: at, Withheld: true}
			for _, rec := range []cdr.Record{a, b} {
				if err := j.Note(ctx, rec); err != nil {
					t.Fatal(err)
				}
			}
			a.QueuedAt, a.Language = at.Add(10*time.Second), "it"
			if err := j.Note(ctx, a); err != nil { // replaces
				t.Fatal(err)
			}
			if err := j.Forget(ctx, "b"); err != nil {
				t.Fatal(err)
			}
			got, err := j.Open(ctx)
			if err != nil || len(got) != 1 || got[0] != a {
				t.Fatalf("Open = %+v, %v; want only %+v", got, err, a)
			}
			if err := j.Forget(ctx, "a"); err != nil {
				t.Fatal(err)
			}
			if got, err := j.Open(ctx); err != nil || len(got) != 0 {
				t.Errorf("Open after Forget = %+v, %v", got, err)
			}
		})
	}

	// A broken entry is reported, the others still returned.
	j := journal.NewRedis(rdb, "test:", "node2")
	ctx := context.Background()
	if err := j.Note(ctx, cdr.Record{ID: "ok"}); err != nil {
		t.Fatal(err)
	}
	if err := rdb.HSet(ctx, "test:journal:node2", "junk", "{not json").Err(); err != nil {
		t.Fatal(err)
	}
	got, err := j.Open(ctx)
	if len(got) != 1 || got[0].ID != "ok" || err == nil || !strings.Contains(err.Error(), "junk") {
		t.Errorf("Open = %+v, %v; want the good entry and an error naming the bad one", got, err)
	}
}
