package config

import (
	"slices"
	"testing"
	"time"
)

// rome parses a wall-clock time in Europe/Rome.
func rome(t *testing.T, s string) time.Time {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		t.Fatal(err)
	}
	tm, err := time.ParseInLocation("2006-01-02 15:04:05", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

// utc parses an instant in UTC: DST tests must name instants, since some
// wall-clock times happen twice and some never.
func utc(t *testing.T, s string) time.Time {
	t.Helper()
	tm, err := time.Parse("2006-01-02 15:04:05", s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

// TestOpenLanguagesSeed checks the seed service's schedule on the example.
func TestOpenLanguagesSeed(t *testing.T) {
	c, err := Parse("example.yaml", ExampleYAML())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		at   string // Europe/Rome wall clock; June 2025 is CEST
		want []string
	}{
		// 10 June 2025 is a Tuesday.
		{"Tue before English opens", "2025-06-10 07:59:59", []string{"it"}},
		{"Tue English opens", "2025-06-10 08:00:00", []string{"it", "en"}},
		{"Tue 19:59 English still open", "2025-06-10 19:59:00", []string{"it", "en"}},
		{"Tue 19:59:59 English still open", "2025-06-10 19:59:59", []string{"it", "en"}},
		{"Tue 20:00 English closed", "2025-06-10 20:00:00", []string{"it"}},
		{"Tue 10:00 no German on Tuesday", "2025-06-10 10:00:00", []string{"it", "en", "fr", "es", "ar"}},
		{"Tue 12:00 Arabic closed", "2025-06-10 12:00:00", []string{"it", "en", "fr", "es"}},
		{"Tue 14:00 French and Spanish closed", "2025-06-10 14:00:00", []string{"it", "en"}},
		// 9, 11, 13 June 2025 are Monday, Wednesday, Friday.
		{"Mon 10:00 all six", "2025-06-09 10:00:00", []string{"it", "en", "fr", "es", "ar", "de"}},
		{"Wed 11:59 all six", "2025-06-11 11:59:59", []string{"it", "en", "fr", "es", "ar", "de"}},
		{"Fri 12:00 German closed", "2025-06-13 12:00:00", []string{"it", "en", "fr", "es"}},
		{"Thu 11:00 no German", "2025-06-12 11:00:00", []string{"it", "en", "fr", "es", "ar"}},
		{"Mon 00:00 only Italian", "2025-06-09 00:00:00", []string{"it"}},
		// 14 and 15 June 2025 are Saturday and Sunday.
		{"Sat 11:00 weekend", "2025-06-14 11:00:00", []string{"it"}},
		{"Sun 10:30 weekend", "2025-06-15 10:30:00", []string{"it"}},
		// Winter time (CET).
		{"Tue in January 08:00", "2025-01-14 08:00:00", []string{"it", "en"}},
		{"Tue in January 07:59", "2025-01-14 07:59:59", []string{"it"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at := rome(t, tt.at)
			if got := c.OpenLanguages(at); !slices.Equal(got, tt.want) {
				t.Errorf("OpenLanguages(%s) = %q, want %q", tt.at, got, tt.want)
			}
			// The instant matters, not the zone it is expressed in.
			for _, zone := range []string{"UTC", "America/New_York", "Asia/Tokyo"} {
				loc, err := time.LoadLocation(zone)
				if err != nil {
					t.Fatal(err)
				}
				if got := c.OpenLanguages(at.In(loc)); !slices.Equal(got, tt.want) {
					t.Errorf("OpenLanguages(%s in %s) = %q, want %q", tt.at, zone, got, tt.want)
				}
			}
		})
	}
}

// TestOpenLanguagesDST checks instants around the two DST changes of 2025
// in Europe/Rome, given in UTC so that each is unambiguous.
func TestOpenLanguagesDST(t *testing.T) {
	seed, err := Parse("example.yaml", ExampleYAML())
	if err != nil {
		t.Fatal(err)
	}
	dst := mustLoad(t, "dst.yaml")
	tests := []struct {
		name string
		c    *Config
		at   string // UTC
		want []string
	}{
		// Friday 28 March (CET, UTC+1): English opens 07:00 UTC.
		{"Fri before spring, 07:59:59 CET", seed, "2025-03-28 06:59:59", []string{"it"}},
		{"Fri before spring, 08:00 CET", seed, "2025-03-28 07:00:00", []string{"it", "en"}},
		// Monday 31 March (CEST, UTC+2): English opens 06:00 UTC.
		{"Mon after spring, 07:59:59 CEST", seed, "2025-03-31 05:59:59", []string{"it"}},
		{"Mon after spring, 08:00 CEST", seed, "2025-03-31 06:00:00", []string{"it", "en"}},
		{"Mon after spring, 19:59:59 CEST", seed, "2025-03-31 17:59:59", []string{"it", "en"}},
		{"Mon after spring, 20:00 CEST", seed, "2025-03-31 18:00:00", []string{"it"}},
		// Monday 27 October (CET again): English opens 07:00 UTC.
		{"Mon after autumn, 07:30 CET", seed, "2025-10-27 06:30:00", []string{"it"}},
		{"Mon after autumn, 08:00 CET", seed, "2025-10-27 07:00:00", []string{"it", "en"}},
		{"Mon after autumn, 20:00 CET", seed, "2025-10-27 19:00:00", []string{"it"}},

		// Sunday 30 March: 01:59:59 CET is followed by 03:00:00 CEST.
		// en is open 01:00-04:00, fr 02:00-03:00 (an hour that never
		// happens), de always (digit 0, last in the menu).
		{"spring 00:59 CET", dst, "2025-03-29 23:59:59", []string{"it", "de"}},
		{"spring 01:00 CET", dst, "2025-03-30 00:00:00", []string{"it", "en", "de"}},
		{"spring 01:59:59 CET", dst, "2025-03-30 00:59:59", []string{"it", "en", "de"}},
		{"spring 03:00 CEST, fr's hour skipped", dst, "2025-03-30 01:00:00", []string{"it", "en", "de"}},
		// 3 hours after local midnight, but the wall clock says 04:00.
		{"spring 04:00 CEST", dst, "2025-03-30 02:00:00", []string{"it", "de"}},

		// Sunday 26 October: 02:59:59 CEST is followed by 02:00:00 CET.
		{"autumn 01:59:59 CEST", dst, "2025-10-25 23:59:59", []string{"it", "en", "de"}},
		{"autumn first 02:00 CEST", dst, "2025-10-26 00:00:00", []string{"it", "en", "fr", "de"}},
		{"autumn first 02:59:59 CEST", dst, "2025-10-26 00:59:59", []string{"it", "en", "fr", "de"}},
		{"autumn second 02:00 CET", dst, "2025-10-26 01:00:00", []string{"it", "en", "fr", "de"}},
		{"autumn second 02:59:59 CET", dst, "2025-10-26 01:59:59", []string{"it", "en", "fr", "de"}},
		{"autumn 03:00 CET", dst, "2025-10-26 02:00:00", []string{"it", "en", "de"}},
		// 4 hours after local midnight, but the wall clock says 03:00.
		{"autumn 03:59:59 CET", dst, "2025-10-26 02:59:59", []string{"it", "en", "de"}},
		{"autumn 04:00 CET", dst, "2025-10-26 03:00:00", []string{"it", "de"}},

		// A window to 24:00 is open until the last second of the day.
		{"Sat 23:59:59 CEST", dst, "2025-06-14 21:59:59", []string{"it", "es", "de"}},
		{"Sun 00:00 CEST", dst, "2025-06-14 22:00:00", []string{"it", "de"}},
		{"Sat 21:59:59 CEST", dst, "2025-06-14 19:59:59", []string{"it", "de"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.c.OpenLanguages(utc(t, tt.at)); !slices.Equal(got, tt.want) {
				t.Errorf("OpenLanguages(%s UTC) = %q, want %q", tt.at, got, tt.want)
			}
		})
	}
}

func TestHoursString(t *testing.T) {
	h := Hours{Windows: []Window{
		{Days: []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Friday, time.Sunday}, From: 480, To: EndOfDay},
	}}
	if got, want := h.String(), "mon-wed,fri,sun 08:00-24:00"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
	if got := (Hours{Always: true}).String(); got != "always" {
		t.Errorf("String = %q", got)
	}
}
