package report

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DefaultTimezone is the time zone of the published report.
const DefaultTimezone = "Europe/Rome"

// dateLayout is how periods are written on the command line and in JSON.
const dateLayout = "2006-01-02"

// ErrPeriod marks a period that cannot be reported (bad date, empty or
// reversed range); the CLI turns it into a usage error.
var ErrPeriod = errors.New("report: bad period")

// Period is a range of local calendar days, From inclusive and To
// exclusive, in a time zone. The report's day boundaries, weekdays and
// hours are those of Location, so a period is the same days for the
// monitoring staff whatever the server's zone, and the weekday × hour
// table follows the local clock across daylight-saving changes.
type Period struct {
	// From and To are midnights in Location; To is exclusive.
	From, To time.Time
	Location *time.Location
}

// NewPeriod builds the period [from, to) from local dates "YYYY-MM-DD".
// Errors wrap ErrPeriod.
func NewPeriod(from, to string, loc *time.Location) (Period, error) {
	if loc == nil {
		return Period{}, fmt.Errorf("%w: no time zone", ErrPeriod)
	}
	f, err := time.ParseInLocation(dateLayout, from, loc)
	if err != nil {
		return Period{}, fmt.Errorf("%w: from date %q is not YYYY-MM-DD", ErrPeriod, from)
	}
	t, err := time.ParseInLocation(dateLayout, to, loc)
	if err != nil {
		return Period{}, fmt.Errorf("%w: to date %q is not YYYY-MM-DD", ErrPeriod, to)
	}
	if !t.After(f) {
		return Period{}, fmt.Errorf("%w: to date %s is not after from date %s (to is exclusive)", ErrPeriod, to, from)
	}
	return Period{From: f, To: t, Location: loc}, nil
}

// Quarter returns the calendar quarter named like "2025Q3" (also "2025-Q3"
// or lower case): Q1 is January–March, Q2 April–June, Q3 July–September,
// Q4 October–December. The published 1522 "quarters" follow the contract
// year instead (the seed's is June–August): report those with NewPeriod.
func Quarter(name string, loc *time.Location) (Period, error) {
	if loc == nil {
		return Period{}, fmt.Errorf("%w: no time zone", ErrPeriod)
	}
	s := strings.ToUpper(strings.TrimSpace(name))
	year, q, ok := strings.Cut(strings.Replace(s, "-Q", "Q", 1), "Q")
	y, yerr := strconv.Atoi(year)
	n, qerr := strconv.Atoi(q)
	if !ok || yerr != nil || qerr != nil || len(year) != 4 || n < 1 || n > 4 {
		return Period{}, fmt.Errorf("%w: quarter %q is not like 2025Q3", ErrPeriod, name)
	}
	from := time.Date(y, time.Month(3*(n-1)+1), 1, 0, 0, 0, 0, loc)
	return Period{From: from, To: from.AddDate(0, 3, 0), Location: loc}, nil
}

// Start is the first instant of the period.
func (p Period) Start() time.Time { return p.From }

// End is the first instant after the period.
func (p Period) End() time.Time { return p.To }

// Contains reports whether t falls in [From, To).
func (p Period) Contains(t time.Time) bool { return !t.Before(p.From) && t.Before(p.To) }

// LastDay is the last day included (To − 1 day).
func (p Period) LastDay() time.Time { return p.To.AddDate(0, 0, -1) }

// Months is the number of whole months the period spans when it starts
// and ends on the first of a month, else 0.
func (p Period) Months() int {
	if p.From.Day() != 1 || p.To.Day() != 1 {
		return 0
	}
	return (p.To.Year()-p.From.Year())*12 + int(p.To.Month()) - int(p.From.Month())
}

// Days is the number of calendar days in the period.
func (p Period) Days() int {
	// Count calendar dates, not 24-hour spans (DST days are 23 or 25 h).
	a := time.Date(p.From.Year(), p.From.Month(), p.From.Day(), 0, 0, 0, 0, time.UTC)
	b := time.Date(p.To.Year(), p.To.Month(), p.To.Day(), 0, 0, 0, 0, time.UTC)
	return int(b.Sub(a).Hours() / 24)
}

// Previous is the period of the same length just before p: the same
// number of whole months when p is month-aligned (June–August → March–May,
// as the published report compares), else the same number of days.
func (p Period) Previous() Period {
	if m := p.Months(); m > 0 {
		return Period{From: p.From.AddDate(0, -m, 0), To: p.From, Location: p.Location}
	}
	return Period{From: p.From.AddDate(0, 0, -p.Days()), To: p.From, Location: p.Location}
}

// String is "2025-06-01..2025-09-01 Europe/Rome" (To exclusive).
func (p Period) String() string {
	return p.From.Format(dateLayout) + ".." + p.To.Format(dateLayout) + " " + p.Location.String()
}
