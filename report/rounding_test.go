package report

import (
	"slices"
	"testing"
)

func TestLargestRemainder(t *testing.T) {
	tests := []struct {
		name   string
		counts []int64
		want   []int64 // tenths of a percent
	}{
		// The seed, section A.1: total = queued, welcome hang-up, blacklisted.
		{"seed total", []int64{18455, 9987, 6178}, []int64{533, 289, 178}},
		// The seed: queued = answered, abandoned, unanswered, voicemail.
		{"seed queued", []int64{15911, 1542, 943, 59}, []int64{862, 84, 51, 3}},
		{"one category", []int64{42}, []int64{1000}},
		{"one non-zero among zeros", []int64{0, 7, 0}, []int64{0, 1000, 0}},
		{"all zero", []int64{0, 0, 0}, []int64{0, 0, 0}},
		{"empty", nil, []int64{}},
		{"exact", []int64{1, 1, 2}, []int64{250, 250, 500}},
		// 333.33 each: one tenth left, equal remainders and counts → first.
		{"tie equal counts", []int64{1, 1, 1}, []int64{334, 333, 333}},
		// 2/7=285.71.., 2/7, 3/7=428.57..: floors 285+285+428=998, two
		// tenths left; remainders 5/7,5/7,4/7 → the two 2s.
		{"ties by remainder", []int64{2, 2, 3}, []int64{286, 286, 428}},
		// 1/6=166.67, 2/6=333.33, 3/6=500: one tenth left → the 1 (rem .67).
		{"small remainder loses", []int64{1, 2, 3}, []int64{167, 333, 500}},
		// remainders equal (0.5 each) but counts differ → larger count wins.
		{"tie broken by larger count", []int64{1, 3, 1996}, []int64{0, 2, 998}},
		{"negative as zero", []int64{-5, 5}, []int64{0, 1000}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := LargestRemainder(tc.counts)
			if !slices.Equal(got, tc.want) {
				t.Fatalf("LargestRemainder(%v) = %v; want %v", tc.counts, got, tc.want)
			}
			var sum, total int64
			for i, v := range got {
				sum += v
				total += max(tc.counts[i], 0)
			}
			if total > 0 && sum != 1000 {
				t.Errorf("shares add up to %d tenths; want 1000", sum)
			}
		})
	}
}
