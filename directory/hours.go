package directory

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Hours says when a service answers the phone, in the small grammar the
// directory's CSV uses (Italian or English day names, case ignored):
//
//	hours  = "" | "24/7" | "h24" | "24h" | "sempre" | "always" | part { ";" part }
//	part   = days ranges
//	days   = day [ "-" day ] { "," day [ "-" day ] }     lun mar mer gio ven sab dom, mon … sun
//	ranges = range { ( "," | " " ) range } | "h24" | "chiuso" | "closed"
//	range  = HH:MM "-" HH:MM                              09:00-13:00, 9.00-13.00, 20:00-08:00
//
// so "lun-ven 09:00-13:00,14:00-18:00; sab 09:00-12:00" or "lun,mer,ven
// 10:00-12:00". A range whose end is not after its start runs past
// midnight into the next day ("ven 20:00-08:00" is Friday night until
// Saturday 08:00); 24:00 ends a range at midnight. A day range may wrap
// ("ven-lun"). The empty string means the hours are unknown, which Suggest
// ranks after open services and before closed ones, since the service may
// well answer.
//
// The zero Hours is unknown. Hours are compared and stored in their
// canonical form (String), so "Lun-Ven 9.00-18.00" and "lun-ven
// 09:00-18:00" are the same hours.
type Hours struct {
	always  bool
	windows []window // sorted by day (Monday first), then start
}

// window is one opening on one weekday; to <= from means it ends on the
// next day.
type window struct {
	day      time.Weekday
	from, to int // minutes after midnight; to may be 1440
}

// OpenState is whether a service answers at some instant.
type OpenState int

// Open states, in the order Suggest ranks them.
const (
	Open    OpenState = iota // open now by its hours
	Unknown                  // no hours in the directory
	Closed                   // closed now by its hours
)

// String is "open", "unknown" or "closed".
func (s OpenState) String() string {
	switch s {
	case Open:
		return "open"
	case Unknown:
		return "unknown"
	case Closed:
		return "closed"
	}
	return fmt.Sprintf("OpenState(%d)", int(s))
}

// AlwaysOpen is the hours of a service that answers around the clock.
func AlwaysOpen() Hours { return Hours{always: true} }

var dayNames = map[string]time.Weekday{
	"lun": time.Monday, "lunedi": time.Monday, "mon": time.Monday, "monday": time.Monday,
	"mar": time.Tuesday, "martedi": time.Tuesday, "tue": time.Tuesday, "tuesday": time.Tuesday,
	"mer": time.Wednesday, "mercoledi": time.Wednesday, "wed": time.Wednesday, "wednesday": time.Wednesday,
	"gio": time.Thursday, "giovedi": time.Thursday, "thu": time.Thursday, "thursday": time.Thursday,
	"ven": time.Friday, "venerdi": time.Friday, "fri": time.Friday, "friday": time.Friday,
	"sab": time.Saturday, "sabato": time.Saturday, "sat": time.Saturday, "saturday": time.Saturday,
	"dom": time.Sunday, "domenica": time.Sunday, "sun": time.Sunday, "sunday": time.Sunday,
}

var dayAbbrevIT = [...]string{"dom", "lun", "mar", "mer", "gio", "ven", "sab"}

var alwaysWords = map[string]bool{"24/7": true, "h24": true, "24h": true, "h 24": true, "24 h": true,
	"24/24": true, "sempre": true, "always": true, "24 ore su 24": true}

// maxHoursLen bounds the text parsed, so a pasted paragraph fails fast.
const maxHoursLen = 300

// ParseHours reads hours in the grammar above. The error says which part
// is wrong and why.
func ParseHours(s string) (Hours, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Hours{}, nil
	}
	if len(s) > maxHoursLen {
		return Hours{}, fmt.Errorf("hours are %d characters long; at most %d", len(s), maxHoursLen)
	}
	low := strings.ToLower(s)
	if alwaysWords[strings.Join(strings.Fields(low), " ")] {
		return Hours{always: true}, nil
	}
	// "lun - ven" and "09:00 - 13:00" are "lun-ven" and "09:00-13:00".
	low = spacesAround(low, '-')
	low = spacesAround(low, ',')
	var h Hours
	for part := range strings.SplitSeq(low, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		fields := strings.Fields(part)
		if len(fields) < 2 {
			return Hours{}, fmt.Errorf("%q: want days then times, as in \"lun-ven 09:00-18:00\"", part)
		}
		days, err := parseDays(fields[0])
		if err != nil {
			return Hours{}, fmt.Errorf("%q: %w", part, err)
		}
		rest := strings.Join(fields[1:], ",")
		if rest == "chiuso" || rest == "closed" {
			continue
		}
		var spans [][2]int
		if rest == "h24" || rest == "24h" {
			spans = [][2]int{{0, 24 * 60}}
		} else {
			for r := range strings.SplitSeq(rest, ",") {
				if r == "" {
					continue
				}
				from, to, err := parseRange(r)
				if err != nil {
					return Hours{}, fmt.Errorf("%q: %w", part, err)
				}
				spans = append(spans, [2]int{from, to})
			}
		}
		for _, d := range days {
			for _, sp := range spans {
				h.windows = append(h.windows, window{day: d, from: sp[0], to: sp[1]})
			}
		}
	}
	if len(h.windows) == 0 {
		if strings.Contains(low, "chiuso") || strings.Contains(low, "closed") {
			return Hours{}, errors.New("the hours say closed every day they name and open on none: leave them empty if unknown")
		}
		return Hours{}, fmt.Errorf("%q names no opening time", s)
	}
	h.normalise()
	return h, nil
}

// MustParseHours is ParseHours for hours known to be valid (tests,
// examples); it panics on an error.
func MustParseHours(s string) Hours {
	h, err := ParseHours(s)
	if err != nil {
		panic(err)
	}
	return h
}

func spacesAround(s string, sep byte) string {
	for {
		t := strings.ReplaceAll(strings.ReplaceAll(s, " "+string(sep), string(sep)), string(sep)+" ", string(sep))
		if t == s {
			return s
		}
		s = t
	}
}

// parseDays reads "lun-ven", "lun,mer,ven", "ven-lun" (wrapping) or
// "lun-mer,sab" into weekdays.
func parseDays(s string) ([]time.Weekday, error) {
	var days []time.Weekday
	for item := range strings.SplitSeq(s, ",") {
		a, b, isRange := strings.Cut(item, "-")
		first, ok := dayNames[fold(a)]
		if !ok {
			return nil, fmt.Errorf("%q is not a day (lun mar mer gio ven sab dom)", a)
		}
		if !isRange {
			days = append(days, first)
			continue
		}
		last, ok := dayNames[fold(b)]
		if !ok {
			return nil, fmt.Errorf("%q is not a day (lun mar mer gio ven sab dom)", b)
		}
		for d := first; ; d = (d + 1) % 7 {
			days = append(days, d)
			if d == last {
				break
			}
		}
	}
	return days, nil
}

func parseRange(s string) (from, to int, err error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return 0, 0, fmt.Errorf("%q is not a time range such as 09:00-18:00", s)
	}
	if from, err = parseClock(a); err != nil {
		return 0, 0, err
	}
	if to, err = parseClock(b); err != nil {
		return 0, 0, err
	}
	switch {
	case from == 24*60:
		return 0, 0, fmt.Errorf("%q: a range cannot start at 24:00", s)
	case from == to:
		return 0, 0, fmt.Errorf("%q opens and closes at the same time (write h24 for all day)", s)
	}
	return from, to, nil
}

// parseClock reads "09:00", "9:00", "9.00" (Italian style) or "24:00".
func parseClock(s string) (int, error) {
	hh, mm, ok := strings.Cut(s, ":")
	if !ok {
		hh, mm, ok = strings.Cut(s, ".")
	}
	bad := fmt.Errorf("%q is not a time of day such as 09:00", s)
	if !ok || len(hh) < 1 || len(hh) > 2 || len(mm) != 2 {
		return 0, bad
	}
	h, err1 := strconv.ParseUint(hh, 10, 8)
	m, err2 := strconv.ParseUint(mm, 10, 8)
	if err1 != nil || err2 != nil || h > 24 || m > 59 || (h == 24 && m != 0) {
		return 0, bad
	}
	return int(h*60 + m), nil
}

// mondayFirst orders weekdays as Italian calendars do.
func mondayFirst(d time.Weekday) int { return (int(d) + 6) % 7 }

func (h *Hours) normalise() {
	slices.SortFunc(h.windows, func(a, b window) int {
		if c := mondayFirst(a.day) - mondayFirst(b.day); c != 0 {
			return c
		}
		if a.from != b.from {
			return a.from - b.from
		}
		return a.to - b.to
	})
	h.windows = slices.Compact(h.windows)
}

// Known reports whether the hours say anything (are not empty).
func (h Hours) Known() bool { return h.always || len(h.windows) > 0 }

// Always reports whether the service answers around the clock.
func (h Hours) Always() bool { return h.always }

// Equal reports whether two Hours open at the same times as written.
func (h Hours) Equal(o Hours) bool { return h.always == o.always && slices.Equal(h.windows, o.windows) }

// OpenAt reports whether the service answers at t, read on the wall clock
// of loc (so DST days are right: a service open 09:00–18:00 is open when a
// clock in Rome shows a time in that span). Unknown hours are not open.
func (h Hours) OpenAt(t time.Time, loc *time.Location) bool {
	return h.StateAt(t, loc) == Open
}

// StateAt is OpenAt with the third answer: Unknown when there are no hours.
func (h Hours) StateAt(t time.Time, loc *time.Location) OpenState {
	switch {
	case h.always:
		return Open
	case len(h.windows) == 0:
		return Unknown
	}
	local := t.In(loc)
	hh, mm, ss := local.Clock()
	now := hh*3600 + mm*60 + ss
	today, yesterday := local.Weekday(), (local.Weekday()+6)%7
	for _, w := range h.windows {
		switch {
		case w.day == today && w.to > w.from && now >= w.from*60 && now < w.to*60:
			return Open
		case w.day == today && w.to <= w.from && now >= w.from*60:
			return Open // the first part of an overnight range
		case w.day == yesterday && w.to <= w.from && now < w.to*60:
			return Open // the morning part of last night's range
		}
	}
	return Closed
}

// NextOpen returns when the service next opens after t (on loc's wall
// clock), and false if it never does by its hours (unknown, always open,
// or no windows).
func (h Hours) NextOpen(t time.Time, loc *time.Location) (time.Time, bool) {
	if h.always || len(h.windows) == 0 {
		return time.Time{}, false
	}
	local := t.In(loc)
	y, m, d := local.Date()
	var best time.Time
	for k := 0; k <= 7; k++ {
		day := time.Date(y, m, d+k, 12, 0, 0, 0, loc).Weekday()
		for _, w := range h.windows {
			if w.day != day {
				continue
			}
			start := time.Date(y, m, d+k, w.from/60, w.from%60, 0, 0, loc)
			if start.After(t) && (best.IsZero() || start.Before(best)) {
				best = start
			}
		}
		if !best.IsZero() {
			return best, true
		}
	}
	return time.Time{}, false
}

// String renders the hours canonically, in Italian day names: "" for
// unknown, "24/7", or "lun-ven 09:00-18:00; sab 09:00-13:00". Days with
// the same ranges share one part.
func (h Hours) String() string {
	if h.always {
		return "24/7"
	}
	if len(h.windows) == 0 {
		return ""
	}
	var perDay [7]string // Monday first
	for _, w := range h.windows {
		i := mondayFirst(w.day)
		if perDay[i] != "" {
			perDay[i] += ","
		}
		perDay[i] += clock(w.from) + "-" + clock(w.to)
	}
	var parts []string
	done := [7]bool{}
	for i := range 7 {
		if perDay[i] == "" || done[i] {
			continue
		}
		var same []int
		for j := i; j < 7; j++ {
			if perDay[j] == perDay[i] {
				same = append(same, j)
				done[j] = true
			}
		}
		parts = append(parts, dayList(same)+" "+perDay[i])
	}
	return strings.Join(parts, "; ")
}

// dayList writes Monday-first day indexes as runs: [0 1 2 3 4] is
// "lun-ven", [0 2 4] is "lun,mer,ven", [0 1 3] is "lun-mar,gio" (a run of
// two is written as a range too).
func dayList(idx []int) string {
	name := func(i int) string { return dayAbbrevIT[(i+1)%7] }
	var out []string
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && idx[j+1] == idx[j]+1 {
			j++
		}
		if j == i {
			out = append(out, name(idx[i]))
		} else {
			out = append(out, name(idx[i])+"-"+name(idx[j]))
		}
		i = j + 1
	}
	return strings.Join(out, ",")
}

func clock(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }
