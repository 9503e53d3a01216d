package spool_test

import (
	"context"
	"fmt"
	"os"

	"github.com/helpline-it/helpline/cdr"
	"github.com/helpline-it/helpline/cdr/cdrtest"
	"github.com/helpline-it/helpline/cdr/memory"
	"github.com/helpline-it/helpline/cdr/spool"
)

// A record the store refuses is spooled by Fallback, then replayed into
// the store once it takes records again.
func Example() {
	dir, err := os.MkdirTemp("", "spool-example-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	sp, err := spool.Open(spool.Options{Dir: dir})
	if err != nil {
		panic(err)
	}
	defer sp.Close()

	ctx := context.Background()
	store := memory.New()
	w := spool.Fallback{Store: refusing{}, Spool: sp}
	if err := w.Write(ctx, cdrtest.Answered("call-1", cdrtest.T0)); err != nil {
		panic(err)
	}
	n, _ := store.Count(ctx, cdr.Filter{})
	fmt.Println("in the store while it refuses:", n)

	rp, err := spool.NewReplayer(sp, store, spool.ReplayerOptions{})
	if err != nil {
		panic(err)
	}
	res, err := rp.Replay(ctx)
	fmt.Println("replayed:", res.Replayed, err)
	n, _ = store.Count(ctx, cdr.Filter{})
	fmt.Println("in the store after the replay:", n)
	// Output:
	// in the store while it refuses: 0
	// replayed: 1 <nil>
	// in the store after the replay: 1
}

// refusing is a store with a full disk.
type refusing struct{}

func (refusing) Write(context.Context, cdr.Record) error {
	return fmt.Errorf("database or disk is full")
}
