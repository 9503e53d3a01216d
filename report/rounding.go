package report

// LargestRemainder splits 100 % among counts in tenths of a percent (one
// decimal), so that the shares add up to exactly 1000 tenths (100.0 %)
// whenever the total is positive. This is the Hamilton method the
// published report uses: 9.987 of 34.620 is 28,85 %, shown as 28,9 %
// because its remainder is the largest of the three.
//
// Each count first gets the floor of its exact quota count×1000/total
// (computed in integers, so there is no float drift); the tenths still
// missing go one each to the counts with the largest remainders. Equal
// remainders go to the larger count, then to the earlier position, so the
// result is deterministic and independent of map order. When every count
// is zero (or counts is empty) every share is 0: a breakdown of nothing
// has no 100 % to distribute. Negative counts are treated as zero.
func LargestRemainder(counts []int64) []int64 {
	tenths := make([]int64, len(counts))
	var total int64
	for _, c := range counts {
		if c > 0 {
			total += c
		}
	}
	if total == 0 {
		return tenths
	}
	rems := make([]int64, len(counts))
	var given int64
	for i, c := range counts {
		if c <= 0 {
			continue
		}
		tenths[i] = c * 1000 / total
		rems[i] = c * 1000 % total
		given += tenths[i]
	}
	for left := 1000 - given; left > 0; left-- {
		best := -1
		for i, c := range counts {
			if c <= 0 || rems[i] < 0 {
				continue
			}
			if best < 0 || rems[i] > rems[best] || (rems[i] == rems[best] && c > counts[best]) {
				best = i
			}
		}
		// left < number of positive counts, so best is always found.
		tenths[best]++
		rems[best] = -1 // one extra tenth at most per count
	}
	return tenths
}

// tenthsToPercent turns tenths of a percent into a float with one decimal.
func tenthsToPercent(t int64) float64 { return float64(t) / 10 }
