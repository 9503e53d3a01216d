package config

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// TimeOfDay is a wall-clock time in minutes after midnight, 0 (00:00) to
// 1440 (24:00, usable only as the end of a window).
type TimeOfDay int

// EndOfDay is 24:00, the end of a window that runs until midnight.
const EndOfDay TimeOfDay = 24 * 60

// ParseTimeOfDay reads "HH:MM" (or "H:MM"), 00:00 to 24:00.
func ParseTimeOfDay(s string) (TimeOfDay, error) {
	bad := fmt.Errorf("%q is not a time of day", s)
	hh, mm, ok := strings.Cut(s, ":")
	if !ok || len(hh) < 1 || len(hh) > 2 || len(mm) != 2 {
		return 0, bad
	}
	h, err1 := strconv.ParseUint(hh, 10, 8)
	m, err2 := strconv.ParseUint(mm, 10, 8)
	if err1 != nil || err2 != nil || m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, bad
	}
	return TimeOfDay(h*60 + m), nil
}

// String formats the time as HH:MM.
func (t TimeOfDay) String() string { return fmt.Sprintf("%02d:%02d", t/60, t%60) }

// Window is one opening span repeated on some days of the week, in the
// service's time zone. It never crosses midnight: a night shift is written
// as two windows (22:00–24:00 and 00:00–06:00 the next day).
type Window struct {
	// Days the window opens on, sorted Sunday first (time.Weekday order).
	Days []time.Weekday
	// From is the first open minute (inclusive).
	From TimeOfDay
	// To is the first closed minute (exclusive): with From 08:00 and To
	// 20:00 the language is open at 19:59:59 and closed at 20:00:00.
	To TimeOfDay
}

// Hours says when a language is offered. Either Always, or open during any
// of Windows.
type Hours struct {
	Always  bool
	Windows []Window
}

// OpenAt reports whether the language is offered at instant t, reading t on
// the wall clock of loc. Reading the wall clock (not adding offsets to
// midnight) is what makes DST days right: on the last Sunday of March
// 02:00–03:00 does not exist, on the last Sunday of October it happens
// twice, and in both cases a window is open exactly when a clock on the
// wall in Rome shows a time inside it.
func (h Hours) OpenAt(t time.Time, loc *time.Location) bool {
	if h.Always {
		return true
	}
	local := t.In(loc)
	hour, minute, sec := local.Clock()
	now := hour*3600 + minute*60 + sec
	day := local.Weekday()
	for _, w := range h.Windows {
		if slices.Contains(w.Days, day) && now >= int(w.From)*60 && now < int(w.To)*60 {
			return true
		}
	}
	return false
}

// String renders the hours as they would be written in the file, e.g.
// "always" or "mon-fri 08:00-20:00".
func (h Hours) String() string {
	if h.Always {
		return "always"
	}
	parts := make([]string, len(h.Windows))
	for i, w := range h.Windows {
		parts[i] = fmt.Sprintf("%s %s-%s", daysString(w.Days), w.From, w.To)
	}
	return strings.Join(parts, ", ")
}

var dayNames = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// parseDay reads a three-letter day name, case-insensitively.
func parseDay(s string) (time.Weekday, bool) {
	i := slices.Index(dayNames[:], strings.ToLower(s))
	return time.Weekday(i), i >= 0
}

// parseDays reads one entry of a window's day list: a day ("mon") or a
// range of days in Monday-first order ("mon-fri"; "fri-mon" wraps over the
// weekend).
func parseDays(s string) ([]time.Weekday, error) {
	from, to, isRange := strings.Cut(s, "-")
	first, ok1 := parseDay(from)
	last := first
	ok2 := true
	if isRange {
		last, ok2 = parseDay(to)
	}
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("%q is not a day (mon, tue, wed, thu, fri, sat, sun, or a range like mon-fri)", s)
	}
	var out []time.Weekday
	for d := first; ; d = (d + 1) % 7 {
		out = append(out, d)
		if d == last {
			return out, nil
		}
	}
}

// daysString writes days compactly, Monday first, joining runs into ranges.
func daysString(days []time.Weekday) string {
	var set [7]bool
	for _, d := range days {
		set[d] = true
	}
	var parts []string
	for i := 0; i < 7; {
		d := (i + 1) % 7 // Monday first
		if !set[d] {
			i++
			continue
		}
		j := i
		for j+1 < 7 && set[(j+2)%7] {
			j++
		}
		if j == i {
			parts = append(parts, dayNames[d])
		} else {
			parts = append(parts, dayNames[d]+"-"+dayNames[(j+1)%7])
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}
