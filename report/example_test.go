package report_test

import (
	"fmt"
	"time"

	"github.com/helpline-it/helpline/cdr"
	"github.com/helpline-it/helpline/report"
)

// The published report's shares of the inbound total: 9.987 of 34.620 is
// 28,85 %, printed 28,9 % because its remainder is the largest.
func ExampleLargestRemainder() {
	tenths := report.LargestRemainder([]int64{18455, 9987, 6178})
	fmt.Println(tenths)
	// Output: [533 289 178]
}

func ExampleBuild() {
	rome, _ := time.LoadLocation("Europe/Rome")
	period, _ := report.NewPeriod("2025-06-01", "2025-06-08", rome)
	at := time.Date(2025, 6, 2, 8, 0, 0, 0, time.UTC) // Monday, 10:00 in Rome
	records := []*cdr.Record{
		{Direction: cdr.Inbound, Outcome: cdr.Answered, ArrivedAt: at, QueuedAt: at.Add(20 * time.Second),
			ConnectedAt: at.Add(50 * time.Second), EndedAt: at.Add(6 * time.Minute)},
		{Direction: cdr.Inbound, Outcome: cdr.WelcomeHangup, ArrivedAt: at.Add(time.Hour), EndedAt: at.Add(time.Hour + 5*time.Second)},
	}
	res := report.Build(period, "", func(yield func(*cdr.Record) bool) {
		for _, r := range records {
			if !yield(r) {
				return
			}
		}
	})
	fmt.Println(res.Inbound.Total, res.Inbound.SharesOfTotal.Queued, res.Wait.AverageSeconds, res.Talk.Average)
	fmt.Println(res.Weekday[0][10], res.Weekday[0][11])
	// Output:
	// 2 50 30 5m10s
	// 1 1
}
