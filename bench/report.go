package bench

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
)

// Print writes the result, one figure a line as "name: value", so that a
// script (and the command's test) can read it back.
func (r *Result) Print(w io.Writer) {
	o := r.Options
	secs := r.Elapsed.Seconds()
	fmt.Fprintf(w, "calls placed: %d\n", r.Placed)
	fmt.Fprintf(w, "call setups/s: %.1f (target rate %.1f; %d answered by the switchboard in %.1fs)\n", float64(r.Setups)/secs, o.Rate, r.Setups, secs)
	fmt.Fprintf(w, "rung through to an operator: %d; abandoned in the queue: %d\n", r.Answered, r.Abandoned)
	fmt.Fprintf(w, "latency StasisStart->answer: %s\n", r.Answer)
	fmt.Fprintf(w, "latency DTMF->next prompt: %s\n", r.DTMF)
	fmt.Fprintf(w, "latency DTMF->originate (operator free): %s\n", r.OrigQueued)
	fmt.Fprintf(w, "latency operator free->originate (call waiting): %s\n", r.OrigAvail)
	fmt.Fprintf(w, "redis round trips per call: %.2f (%d commands in %d trips; per call: %s)\n",
		perCall(float64(r.RedisTrips), r.Placed), r.RedisCommands, r.RedisTrips, byNameText(r.ByName, r.Placed))
	fmt.Fprintf(w, "cdr writes/s: %.1f (%d writes in %.1fs)\n", float64(r.Writes)/r.Total.Seconds(), r.Writes, r.Total.Seconds())
	fmt.Fprintf(w, "cpu: %.2fs user+sys over %.1fs (%.2f cores), %s per call\n", r.CPU.Seconds(), r.Total.Seconds(),
		r.CPU.Seconds()/r.Total.Seconds(), time.Duration(perCall(float64(r.CPU), r.Placed)).Round(time.Microsecond))
	fmt.Fprintf(w, "peak rss: %.1f MB\n", float64(r.PeakRSS)/(1<<20))
	if o.Plateau > 0 {
		fmt.Fprintf(w, "calls waiting at once: %d (plateau %d)\n", r.Waiting, o.Plateau)
		fmt.Fprintf(w, "heap per active call: %.1f KB (live heap %+.1f MB over the baseline; goroutine stacks %+.1f MB)\n",
			float64(r.HeapDelta)/float64(max(r.Waiting, 1))/1024, float64(r.HeapDelta)/(1<<20), float64(r.StackDelta)/(1<<20))
	}
	fmt.Fprintf(w, "lost calls: %d%s\n", r.LostCalls, whyText(r.LostWhy))
	fmt.Fprintf(w, "lost cdrs: %d\n", r.LostRecords)
	fmt.Fprintf(w, "load average: %s\n", r.Load)
}

// whyText is " (reason n, ...)" for the lost calls, "" when none.
func whyText(m map[string]int) string {
	if len(m) == 0 {
		return ""
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return " (" + strings.Join(parts, ", ") + ")"
}
