package directory

import (
	"strings"
	"testing"
	"time"
)

func rome(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		t.Fatalf("Europe/Rome: %v", err)
	}
	return loc
}

func TestParseHoursCanonical(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"  ", ""},
		{"24/7", "24/7"},
		{"H24", "24/7"},
		{"sempre", "24/7"},
		{"lun-ven 09:00-18:00", "lun-ven 09:00-18:00"},
		{"Lun - Ven 9.00 - 18.00", "lun-ven 09:00-18:00"},
		{"mon-fri 09:00-18:00; sat 09:00-13:00", "lun-ven 09:00-18:00; sab 09:00-13:00"},
		{"lun-ven 09:00-13:00,14:00-18:00", "lun-ven 09:00-13:00,14:00-18:00"},
		{"lun-ven 14:00-18:00 09:00-13:00", "lun-ven 09:00-13:00,14:00-18:00"},
		{"lun,mer,ven 10:00-12:00", "lun,mer,ven 10:00-12:00"},
		{"sab 09:00-13:00; lun-ven 09:00-13:00", "lun-sab 09:00-13:00"},
		{"ven-lun 20:00-08:00", "lun,ven-dom 20:00-08:00"},
		{"lunedì-venerdì 09:00-18:00; domenica chiuso", "lun-ven 09:00-18:00"},
		{"lun-ven h24", "lun-ven 00:00-24:00"},
		{"dom 18:00-24:00;", "dom 18:00-24:00"},
		{"lun-mar,gio 09:00-12:00", "lun-mar,gio 09:00-12:00"},
	}
	for _, tt := range tests {
		h, err := ParseHours(tt.in)
		if err != nil {
			t.Errorf("ParseHours(%q): %v", tt.in, err)
			continue
		}
		if got := h.String(); got != tt.want {
			t.Errorf("ParseHours(%q).String() = %q, want %q", tt.in, got, tt.want)
		}
		again, err := ParseHours(h.String())
		if err != nil || !again.Equal(h) {
			t.Errorf("ParseHours(%q) does not round-trip through %q: %v", tt.in, h, err)
		}
	}
}

func TestParseHoursErrors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"lun-ven", `want days then times`},
		{"09:00-18:00", `want days then times`},
		{"xyz 09:00-18:00", `"xyz" is not a day`},
		{"lun-xyz 09:00-18:00", `"xyz" is not a day`},
		{"lun-ven 25:00-18:00", `"25:00" is not a time of day`},
		{"lun-ven 09:60-18:00", `"09:60" is not a time of day`},
		{"lun-ven 9-18", `"9" is not a time of day`},
		{"lun-ven 0900-1800", `"0900" is not a time of day`},
		{"lun-ven 09:00", `"09:00" is not a time range`},
		{"lun-ven 09:00-09:00", `opens and closes at the same time`},
		{"lun-ven 24:00-08:00", `cannot start at 24:00`},
		{"lun-ven 24:30-08:00", `"24:30" is not a time of day`},
		{"lun-ven 09:00-18:00 e 20:00-22:00", `"e" is not a time range`},
		{"dom chiuso", `open on none`},
		{strings.Repeat("lun 09:00-10:00;", 30), "at most 300"},
	}
	for _, tt := range tests {
		_, err := ParseHours(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseHours(%q) error = %v, want it to mention %q", tt.in, err, tt.want)
		}
	}
}

func TestOpenAt(t *testing.T) {
	loc := rome(t)
	at := func(s string) time.Time {
		tm, err := time.ParseInLocation("2006-01-02 15:04:05", s, loc)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	// 2025-06-04 is a Wednesday; 2025-06-06 a Friday; 2025-06-07 a Saturday.
	tests := []struct {
		hours, at string
		want      OpenState
	}{
		{"", "2025-06-04 10:00:00", Unknown},
		{"24/7", "2025-06-08 03:00:00", Open},
		{"lun-ven 09:00-18:00", "2025-06-04 08:59:59", Closed},
		{"lun-ven 09:00-18:00", "2025-06-04 09:00:00", Open},
		{"lun-ven 09:00-18:00", "2025-06-04 17:59:59", Open},
		{"lun-ven 09:00-18:00", "2025-06-04 18:00:00", Closed},
		{"lun-ven 09:00-18:00", "2025-06-07 10:00:00", Closed},
		{"lun-ven 09:00-13:00,14:00-18:00", "2025-06-04 13:30:00", Closed},
		{"lun-ven 09:00-13:00,14:00-18:00", "2025-06-04 14:00:00", Open},
		// Overnight: Friday 20:00 until Saturday 08:00, not Saturday night.
		{"ven 20:00-08:00", "2025-06-06 19:59:00", Closed},
		{"ven 20:00-08:00", "2025-06-06 23:30:00", Open},
		{"ven 20:00-08:00", "2025-06-07 07:59:00", Open},
		{"ven 20:00-08:00", "2025-06-07 08:00:00", Closed},
		{"ven 20:00-08:00", "2025-06-07 21:00:00", Closed},
		{"ven 20:00-08:00", "2025-06-05 03:00:00", Closed},
		// Sunday night into Monday wraps the week.
		{"dom 22:00-06:00", "2025-06-09 05:00:00", Open},
		{"dom 18:00-24:00", "2025-06-08 23:59:59", Open},
		{"dom 18:00-24:00", "2025-06-09 00:00:00", Closed},
		// DST ends on 2025-10-26: 02:30 happens twice; open both times.
		{"dom 02:00-03:00", "2025-10-26 02:30:00", Open},
	}
	for _, tt := range tests {
		h := MustParseHours(tt.hours)
		if got := h.StateAt(at(tt.at), loc); got != tt.want {
			t.Errorf("%q at %s: %v, want %v", tt.hours, tt.at, got, tt.want)
		}
		if got := h.OpenAt(at(tt.at), loc); got != (tt.want == Open) {
			t.Errorf("%q OpenAt %s = %v", tt.hours, tt.at, got)
		}
	}
	// The same instant read in UTC and in Rome: hours are Rome's wall clock.
	utc := time.Date(2025, 6, 4, 7, 30, 0, 0, time.UTC) // 09:30 in Rome (CEST)
	if !MustParseHours("lun-ven 09:00-18:00").OpenAt(utc, loc) {
		t.Error("07:30 UTC is 09:30 in Rome: should be open")
	}
	if MustParseHours("lun-ven 09:00-18:00").OpenAt(utc, time.UTC) {
		t.Error("07:30 read in UTC should be closed")
	}
	// Second fall-back occurrence of 02:30 on 2025-10-26 (CET).
	second := time.Date(2025, 10, 26, 1, 30, 0, 0, time.UTC)
	if got := MustParseHours("dom 02:00-03:00").StateAt(second, loc); got != Open {
		t.Errorf("second 02:30 of the DST change: %v, want open", got)
	}
}

func TestNextOpen(t *testing.T) {
	loc := rome(t)
	wed := time.Date(2025, 6, 4, 19, 0, 0, 0, loc)
	tests := []struct {
		hours string
		want  string // "" = none
	}{
		{"lun-ven 09:00-18:00", "2025-06-05 09:00"},
		{"mar,gio 10:00-13:00", "2025-06-05 10:00"},
		{"lun 09:00-12:00", "2025-06-09 09:00"},
		{"mer 08:00-10:00", "2025-06-11 08:00"},
		{"mer 08:00-10:00,20:00-22:00", "2025-06-04 20:00"},
		{"24/7", ""},
		{"", ""},
	}
	for _, tt := range tests {
		got, ok := MustParseHours(tt.hours).NextOpen(wed, loc)
		gotS := ""
		if ok {
			gotS = got.In(loc).Format("2006-01-02 15:04")
		}
		if gotS != tt.want {
			t.Errorf("NextOpen(%q) after Wed 19:00 = %q, want %q", tt.hours, gotS, tt.want)
		}
	}
}
