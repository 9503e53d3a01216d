package queue_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/helpline-it/helpline/queue"
)

func TestExpectedWait(t *testing.T) {
	tests := []struct {
		pos, ops int
		avg      time.Duration
		want     time.Duration
		ok       bool
	}{
		{1, 1, 6 * time.Minute, 6 * time.Minute, true},
		{3, 2, 6 * time.Minute, 9 * time.Minute, true},
		{1, 4, 6 * time.Minute, 90 * time.Second, true},
		{10, 3, 5 * time.Minute, 10 * 5 * time.Minute / 3, true},
		{0, 3, time.Minute, 0, false},
		{2, 0, time.Minute, 0, false},
		{2, 3, 0, 0, false},
		{-1, 3, time.Minute, 0, false},
	}
	for _, tc := range tests {
		got, ok := queue.ExpectedWait(tc.pos, tc.ops, tc.avg)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ExpectedWait(%d, %d, %v) = %v, %v; want %v, %v", tc.pos, tc.ops, tc.avg, got, ok, tc.want, tc.ok)
		}
	}
}

func ExampleExpectedWait() {
	// Fourth in line, two Arabic-speaking operators, calls lasting six
	// minutes on average: about twelve minutes.
	w, ok := queue.ExpectedWait(4, 2, 6*time.Minute)
	fmt.Println(w, ok)
	// Nobody logged in for the language: say nothing.
	_, ok = queue.ExpectedWait(1, 0, 6*time.Minute)
	fmt.Println(ok)
	// Output:
	// 12m0s true
	// false
}
