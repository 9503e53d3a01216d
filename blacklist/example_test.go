package blacklist_test

import (
	"context"
	"fmt"
	"time"

	"github.com/helpline-it/helpline/blacklist"
	"github.com/helpline-it/helpline/blacklist/blacklisttest"
)

// Three operators flag the same caller within a week: the third flag
// blocks them for seven days, and the block ends by itself.
func ExampleMemory() {
	ctx := context.Background()
	bl, _ := blacklist.NewMemory(blacklist.Policy{Threshold: 3, Window: 7 * 24 * time.Hour, Block: 7 * 24 * time.Hour})
	caller := blacklisttest.Hash("some caller") // callerid.Identity.Hash in real use
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

	for i, op := range []string{"anna", "bruno", "carla"} {
		blocked, _ := bl.Flag(ctx, blacklist.Flag{Hash: caller, Operator: op, Kind: blacklist.Prank, At: t0.Add(time.Duration(i) * 24 * time.Hour)})
		fmt.Println(op, "flags; blocks:", blocked)
	}
	e, ok, _ := bl.Blocked(ctx, caller, t0.Add(3*24*time.Hour))
	fmt.Println(ok, e.Source, e.Until.Format(time.DateOnly), e.Reason)
	_, ok, _ = bl.Blocked(ctx, caller, e.Until)
	fmt.Println("after", e.Until.Format(time.DateOnly)+":", ok)

	_, err := bl.Flag(ctx, blacklist.Flag{Hash: "", Operator: "anna", Kind: blacklist.Harassment, At: t0})
	fmt.Println(err)
	// Output:
	// anna flags; blocks: false
	// bruno flags; blocks: false
	// carla flags; blocks: true
	// true flags 2026-03-11 3 flags within 168h0m0s (harassment 0, prank 3)
	// after 2026-03-11: false
	// blacklist: withheld caller cannot be flagged or blocked
}
