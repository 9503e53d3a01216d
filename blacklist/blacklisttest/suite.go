// Package blacklisttest is the contract suite every blacklist.Store must
// pass; Memory and Redis run it (blacklist/*_test.go).
package blacklisttest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/helpline-it/helpline/blacklist"
)

// T0 is the suite's epoch.
var T0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// Policy is the policy the suite's stores must apply: 3 flags within 30
// days block for 7 days.
var Policy = blacklist.Policy{Threshold: 3, Window: 30 * 24 * time.Hour, Block: 7 * 24 * time.Hour}

const day = 24 * time.Hour

// Hash returns a well-formed caller hash for name (what callerid would
// produce for some number).
func Hash(name string) string {
	s := sha256.Sum256([]byte(name))
	return hex.EncodeToString(s[:])
}

// RunStoreSuite runs the contract over fresh stores applying Policy.
func RunStoreSuite(t *testing.T, newStore func(t *testing.T) blacklist.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s blacklist.Store)
	}{
		{"AddBlockedExpires", testAddExpires},
		{"Remove", testRemove},
		{"List", testList},
		{"FlagsBlockAtThreshold", testFlagsBlock},
		{"FlagsOutsideWindowDoNotCount", testWindow},
		{"FlagBlockExpiresAndRecurs", testFlagBlockExpires},
		{"FlagWhileBlocked", testFlagWhileBlocked},
		{"Withheld", testWithheld},
		{"InvalidInput", testInvalid},
		{"ConcurrentFlags", testConcurrentFlags},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore(t)) })
	}
}

func blocked(t *testing.T, s blacklist.Store, h string, at time.Time) (blacklist.Entry, bool) {
	t.Helper()
	e, ok, err := s.Blocked(context.Background(), h, at)
	if err != nil {
		t.Fatalf("Blocked: %v", err)
	}
	return e, ok
}

func flag(t *testing.T, s blacklist.Store, h, op string, k blacklist.Kind, at time.Time) bool {
	t.Helper()
	b, err := s.Flag(context.Background(), blacklist.Flag{Hash: h, Operator: op, Kind: k, At: at})
	if err != nil {
		t.Fatalf("Flag(%s at %v): %v", op, at, err)
	}
	return b
}

func add(t *testing.T, s blacklist.Store, h string, created time.Time, d time.Duration) blacklist.Entry {
	t.Helper()
	e := blacklist.Entry{Hash: h, Reason: "threats", Source: blacklist.SourceAdmin, Created: created, Until: created.Add(d), By: "admin1"}
	if err := s.Add(context.Background(), e); err != nil {
		t.Fatalf("Add: %v", err)
	}
	return e
}

func testAddExpires(t *testing.T, s blacklist.Store) {
	h := Hash("a")
	if _, ok := blocked(t, s, h, T0); ok {
		t.Fatal("unknown caller reported blocked")
	}
	want := add(t, s, h, T0, 2*day)
	e, ok := blocked(t, s, h, T0.Add(time.Hour))
	if !ok {
		t.Fatal("added caller not blocked")
	}
	if e.Hash != h || e.Reason != want.Reason || e.Source != blacklist.SourceAdmin || e.By != "admin1" || !e.Until.Equal(want.Until) || !e.Created.Equal(T0) {
		t.Fatalf("entry = %+v; want %+v", e, want)
	}
	if _, ok := blocked(t, s, h, want.Until.Add(-time.Millisecond)); !ok {
		t.Fatal("not blocked 1ms before Until")
	}
	if _, ok := blocked(t, s, h, want.Until); ok {
		t.Fatal("still blocked at Until")
	}
	// Add replaces: a shorter block now ends earlier.
	add(t, s, h, T0.Add(time.Hour), time.Hour)
	if _, ok := blocked(t, s, h, T0.Add(2*time.Hour)); ok {
		t.Fatal("replaced block still in force after its new Until")
	}
}

func testRemove(t *testing.T, s blacklist.Store) {
	ctx := context.Background()
	h := Hash("b")
	add(t, s, h, T0, day)
	if err := s.Remove(ctx, h); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if _, ok := blocked(t, s, h, T0.Add(time.Minute)); ok {
		t.Fatal("removed caller still blocked")
	}
	if err := s.Remove(ctx, h); !errors.Is(err, blacklist.ErrNotFound) {
		t.Fatalf("second Remove = %v; want ErrNotFound", err)
	}
	l, err := s.List(ctx, T0.Add(time.Minute))
	if err != nil || len(l) != 0 {
		t.Fatalf("List after Remove = %v, %v; want empty", l, err)
	}
}

func testList(t *testing.T, s blacklist.Store) {
	ctx := context.Background()
	add(t, s, Hash("late"), T0.Add(2*time.Hour), day)
	add(t, s, Hash("early"), T0, 10*day)
	add(t, s, Hash("short"), T0.Add(time.Hour), 2*time.Hour)
	l, err := s.List(ctx, T0.Add(3*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(l) != 2 || l[0].Hash != Hash("early") || l[1].Hash != Hash("late") {
		t.Fatalf("List = %+v; want early, late (short expired)", l)
	}
	l, err = s.List(ctx, T0.Add(5*day))
	if err != nil || len(l) != 1 || l[0].Hash != Hash("early") {
		t.Fatalf("List at +5d = %+v, %v; want early", l, err)
	}
}

func testFlagsBlock(t *testing.T, s blacklist.Store) {
	ctx := context.Background()
	h := Hash("c")
	if flag(t, s, h, "op1", blacklist.Harassment, T0) {
		t.Fatal("first flag blocked")
	}
	if flag(t, s, h, "op2", blacklist.Prank, T0.Add(day)) {
		t.Fatal("second flag blocked")
	}
	if _, ok := blocked(t, s, h, T0.Add(day)); ok {
		t.Fatal("blocked below threshold")
	}
	third := T0.Add(2 * day)
	if !flag(t, s, h, "op1", blacklist.Harassment, third) {
		t.Fatal("third flag within the window did not block")
	}
	e, ok := blocked(t, s, h, third.Add(time.Hour))
	if !ok {
		t.Fatal("not blocked after the threshold")
	}
	if e.Source != blacklist.SourceFlags || e.By != "flags" || !e.Created.Equal(third) || !e.Until.Equal(third.Add(Policy.Block)) {
		t.Fatalf("flag block = %+v; want source flags, created %v, until %v", e, third, third.Add(Policy.Block))
	}
	if !strings.Contains(e.Reason, "harassment 2") || !strings.Contains(e.Reason, "prank 1") {
		t.Fatalf("reason %q does not count the kinds", e.Reason)
	}
	fs, err := s.Flags(ctx, h)
	if err != nil {
		t.Fatal(err)
	}
	want := []blacklist.Flag{
		{Hash: h, Operator: "op1", Kind: blacklist.Harassment, At: T0},
		{Hash: h, Operator: "op2", Kind: blacklist.Prank, At: T0.Add(day)},
		{Hash: h, Operator: "op1", Kind: blacklist.Harassment, At: third},
	}
	if len(fs) != len(want) {
		t.Fatalf("Flags = %+v; want %+v", fs, want)
	}
	for i := range want {
		if fs[i].Hash != want[i].Hash || fs[i].Operator != want[i].Operator || fs[i].Kind != want[i].Kind || !fs[i].At.Equal(want[i].At) {
			t.Fatalf("Flags[%d] = %+v; want %+v", i, fs[i], want[i])
		}
	}
	if l, err := s.List(ctx, third); err != nil || len(l) != 1 || l[0].Hash != h {
		t.Fatalf("List = %+v, %v; want the flag block", l, err)
	}
	// A flag for another caller counts separately.
	if flag(t, s, Hash("other"), "op1", blacklist.Prank, third) {
		t.Fatal("another caller blocked by one flag")
	}
}

func testWindow(t *testing.T, s blacklist.Store) {
	ctx := context.Background()
	h := Hash("d")
	// Three flags, each exactly one window after the previous: a flag
	// that is W old is out of the window.
	for i := range 3 {
		if flag(t, s, h, "op", blacklist.Prank, T0.Add(time.Duration(i)*Policy.Window)) {
			t.Fatalf("flag %d blocked although the others are out of the window", i)
		}
	}
	fs, err := s.Flags(ctx, h)
	if err != nil || len(fs) != 1 {
		t.Fatalf("Flags = %+v, %v; want only the latest kept", fs, err)
	}
	// The same operator flagging the same call twice (same instant) is
	// one flag.
	at := T0.Add(10 * Policy.Window)
	flag(t, s, h, "op", blacklist.Prank, at)
	if flag(t, s, h, "op", blacklist.Prank, at) {
		t.Fatal("a duplicated flag counted twice")
	}
}

func testFlagBlockExpires(t *testing.T, s blacklist.Store) {
	h := Hash("e")
	for i := range 3 {
		flag(t, s, h, fmt.Sprintf("op%d", i), blacklist.Harassment, T0.Add(time.Duration(i)*time.Hour))
	}
	until := T0.Add(2*time.Hour + Policy.Block)
	if _, ok := blocked(t, s, h, until.Add(-time.Millisecond)); !ok {
		t.Fatal("flag block ended early")
	}
	if _, ok := blocked(t, s, h, until); ok {
		t.Fatal("flag block did not end at Until")
	}
	// A new flag while the earlier ones are still in the window blocks
	// again: a repeat abuser.
	if !flag(t, s, h, "op9", blacklist.Prank, until.Add(time.Hour)) {
		t.Fatal("flag after the block ended, with the threshold still met, did not block again")
	}
}

func testFlagWhileBlocked(t *testing.T, s blacklist.Store) {
	h := Hash("f")
	add(t, s, h, T0, 60*day)
	for i := range 4 {
		if flag(t, s, h, "op", blacklist.Harassment, T0.Add(time.Duration(i+1)*time.Hour)) {
			t.Fatalf("flag %d reported causing a block of an already blocked caller", i)
		}
	}
	e, _ := blocked(t, s, h, T0.Add(5*time.Hour))
	if e.Source != blacklist.SourceAdmin || !e.Until.Equal(T0.Add(60*day)) {
		t.Fatalf("admin block replaced by flags: %+v", e)
	}
}

func testWithheld(t *testing.T, s blacklist.Store) {
	ctx := context.Background()
	if _, err := s.Flag(ctx, blacklist.Flag{Operator: "op", Kind: blacklist.Harassment, At: T0}); !errors.Is(err, blacklist.ErrWithheld) {
		t.Fatalf("Flag(withheld) = %v; want ErrWithheld", err)
	}
	if err := s.Add(ctx, blacklist.Entry{Created: T0, Until: T0.Add(day)}); !errors.Is(err, blacklist.ErrWithheld) {
		t.Fatalf("Add(withheld) = %v; want ErrWithheld", err)
	}
	if _, ok, err := s.Blocked(ctx, "", T0); ok || err != nil {
		t.Fatalf("Blocked(withheld) = %v, %v; want false, nil", ok, err)
	}
}

func testInvalid(t *testing.T, s blacklist.Store) {
	ctx := context.Background()
	h := Hash("g")
	flags := []blacklist.Flag{
		{Hash: "+393331234567", Operator: "op", Kind: blacklist.Prank, At: T0},
		{Hash: strings.ToUpper(h), Operator: "op", Kind: blacklist.Prank, At: T0},
		{Hash: h, Operator: "op", Kind: "rude", At: T0},
		{Hash: h, Kind: blacklist.Prank, At: T0},
		{Hash: h, Operator: "op", Kind: blacklist.Prank},
	}
	for _, f := range flags {
		_, err := s.Flag(ctx, f)
		if !errors.Is(err, blacklist.ErrInvalid) {
			t.Fatalf("Flag(%+v) = %v; want ErrInvalid", f, err)
		}
		if strings.Contains(err.Error(), "3331234567") {
			t.Fatalf("error %q echoes a phone number", err)
		}
	}
	entries := []blacklist.Entry{
		{Hash: "3331234567", Created: T0, Until: T0.Add(day)},
		{Hash: h, Created: T0},
		{Hash: h, Until: T0.Add(day)},
		{Hash: h, Created: T0, Until: T0},
		{Hash: h, Created: T0, Until: T0.Add(day), Source: "robot"},
	}
	for _, e := range entries {
		if err := s.Add(ctx, e); !errors.Is(err, blacklist.ErrInvalid) {
			t.Fatalf("Add(%+v) = %v; want ErrInvalid", e, err)
		}
	}
	if _, _, err := s.Blocked(ctx, "3331234567", T0); !errors.Is(err, blacklist.ErrInvalid) {
		t.Fatalf("Blocked(raw number) = %v; want ErrInvalid", err)
	}
	if l, err := s.List(ctx, T0); err != nil || len(l) != 0 {
		t.Fatalf("after bad input List = %v, %v; want empty", l, err)
	}
}

// testConcurrentFlags: many operators flag one caller at once; exactly
// one flag causes the block.
func testConcurrentFlags(t *testing.T, s blacklist.Store) {
	const n = 24
	h := Hash("h")
	var (
		wg     sync.WaitGroup
		blocks atomic.Int64
		errs   = make(chan error, n)
		start  = make(chan struct{})
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			b, err := s.Flag(context.Background(), blacklist.Flag{Hash: h, Operator: fmt.Sprintf("op%02d", i), Kind: blacklist.Harassment, At: T0.Add(time.Duration(i) * time.Millisecond)})
			if err != nil {
				errs <- err
				return
			}
			if b {
				blocks.Add(1)
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := blocks.Load(); got != 1 {
		t.Fatalf("%d flags reported causing the block; want exactly 1", got)
	}
	if fs, err := blacklist.Store(s).Flags(context.Background(), h); err != nil || len(fs) != n {
		t.Fatalf("Flags = %d, %v; want %d", len(fs), err, n)
	}
}
