package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseDuration reads a duration as time.ParseDuration does ("90s", "15m",
// "1h30m") and also accepts whole days, alone or before a Go duration
// ("30d", "1d12h"), because blacklist windows and blocks are counted in days.
// A day is 24 hours (not a calendar day: a block set on the eve of a DST
// change ends an hour earlier or later on the wall clock, which is harmless).
func ParseDuration(s string) (time.Duration, error) {
	bad := fmt.Errorf("%q is not a duration (e.g. 90s, 15m, 2h, 30d)", s)
	body, neg := strings.CutPrefix(s, "-")
	if body == "" || body[0] == '+' || body[0] == '-' {
		return 0, bad
	}
	var days time.Duration
	if i := strings.IndexByte(body, 'd'); i >= 0 {
		n, err := strconv.ParseUint(body[:i], 10, 32)
		if err != nil {
			return 0, bad
		}
		const maxDays = int64(1<<63-1) / int64(24*time.Hour)
		if int64(n) > maxDays {
			return 0, bad
		}
		days = time.Duration(n) * 24 * time.Hour
		body = body[i+1:]
	}
	var rest time.Duration
	if body != "" {
		if body[0] == '+' || body[0] == '-' {
			return 0, bad
		}
		d, err := time.ParseDuration(body)
		if err != nil {
			return 0, bad
		}
		rest = d
	}
	total := days + rest
	if total < days || total < rest { // overflow
		return 0, bad
	}
	if neg {
		total = -total
	}
	return total, nil
}
