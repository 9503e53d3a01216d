package report

import (
	"errors"
	"testing"
	"time"
)

func TestQuarter(t *testing.T) {
	loc := rome(t)
	tests := []struct {
		in       string
		from, to string
		ok       bool
	}{
		{"2025Q3", "2025-07-01", "2025-10-01", true},
		{"2025q1", "2025-01-01", "2025-04-01", true},
		{"2025-Q4", "2025-10-01", "2026-01-01", true},
		{" 2024Q2 ", "2024-04-01", "2024-07-01", true},
		{"2025Q5", "", "", false},
		{"2025Q0", "", "", false},
		{"25Q3", "", "", false},
		{"2025", "", "", false},
		{"Q3", "", "", false},
		{"2025Q3x", "", "", false},
		{"", "", "", false},
	}
	for _, tc := range tests {
		p, err := Quarter(tc.in, loc)
		if !tc.ok {
			if !errors.Is(err, ErrPeriod) {
				t.Errorf("Quarter(%q) err = %v; want ErrPeriod", tc.in, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Quarter(%q): %v", tc.in, err)
			continue
		}
		if got := p.From.Format(dateLayout) + " " + p.To.Format(dateLayout); got != tc.from+" "+tc.to {
			t.Errorf("Quarter(%q) = %s; want %s %s", tc.in, got, tc.from, tc.to)
		}
	}
}

func TestNewPeriodAndPrevious(t *testing.T) {
	loc := rome(t)
	tests := []struct {
		from, to         string
		prevFrom, prevTo string
		months, days     int
	}{
		// The seed: June–August against March–May, as the report compares.
		{"2025-06-01", "2025-09-01", "2025-03-01", "2025-06-01", 3, 92},
		{"2025-07-01", "2025-10-01", "2025-04-01", "2025-07-01", 3, 92},
		{"2025-01-01", "2025-02-01", "2024-12-01", "2025-01-01", 1, 31},
		// Not month-aligned: the same number of days before.
		{"2025-06-10", "2025-06-17", "2025-06-03", "2025-06-10", 0, 7},
		// Across the spring DST change: 7 calendar days, not 7×24 h.
		{"2025-03-31", "2025-04-07", "2025-03-24", "2025-03-31", 0, 7},
	}
	for _, tc := range tests {
		p, err := NewPeriod(tc.from, tc.to, loc)
		if err != nil {
			t.Fatal(err)
		}
		if p.Months() != tc.months || p.Days() != tc.days {
			t.Errorf("%s..%s: months %d days %d; want %d %d", tc.from, tc.to, p.Months(), p.Days(), tc.months, tc.days)
		}
		prev := p.Previous()
		if got := prev.From.Format(dateLayout) + ".." + prev.To.Format(dateLayout); got != tc.prevFrom+".."+tc.prevTo {
			t.Errorf("%s..%s: previous %s; want %s..%s", tc.from, tc.to, got, tc.prevFrom, tc.prevTo)
		}
		if h, m, _ := prev.From.Clock(); h != 0 || m != 0 {
			t.Errorf("previous starts at %s, not local midnight", prev.From)
		}
	}
	// Local midnight, not UTC midnight.
	p, _ := NewPeriod("2025-06-01", "2025-09-01", loc)
	if want := time.Date(2025, 5, 31, 22, 0, 0, 0, time.UTC); !p.Start().Equal(want) {
		t.Errorf("start = %s; want %s", p.Start().UTC(), want)
	}
	for _, bad := range [][2]string{{"2025-06-01", "2025-06-01"}, {"2025-09-01", "2025-06-01"}, {"2025-06-31", "2025-07-01"}, {"2025-6-1", "2025-07-01"}, {"2025-06-01", "tomorrow"}} {
		if _, err := NewPeriod(bad[0], bad[1], loc); !errors.Is(err, ErrPeriod) {
			t.Errorf("NewPeriod(%q, %q) err = %v; want ErrPeriod", bad[0], bad[1], err)
		}
	}
	if _, err := NewPeriod("2025-06-01", "2025-07-01", nil); !errors.Is(err, ErrPeriod) {
		t.Errorf("nil location accepted")
	}
}

// FuzzQuarter: any input either fails with ErrPeriod or gives a period of
// three whole months starting on a quarter's first day.
func FuzzQuarter(f *testing.F) {
	for _, s := range []string{"2025Q3", "2025-q1", "9999Q4", "0000Q1", "2025QQ3", "-001Q1", "2025Q+3"} {
		f.Add(s)
	}
	loc := time.UTC
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Quarter(s, loc)
		if err != nil {
			if !errors.Is(err, ErrPeriod) {
				t.Fatalf("Quarter(%q) err %v is not ErrPeriod", s, err)
			}
			return
		}
		if p.Months() != 3 || (p.From.Month()-1)%3 != 0 || p.From.Day() != 1 {
			t.Fatalf("Quarter(%q) = %s", s, p)
		}
	})
}
