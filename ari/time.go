package ari

import (
	"bytes"
	"fmt"
	"time"
)

// TimeLayout is how Asterisk writes a Date: milliseconds and a numeric
// offset without a colon, e.g. 2026-11-23T14:49:37.617+0000. It is not RFC
// 3339, so time.Time's own JSON methods reject it.
const TimeLayout = "2006-01-02T15:04:05.000-0700"

// Time is a Date of the ARI schema. It reads Asterisk's layout (TimeLayout,
// with or without the fraction) and RFC 3339, and writes TimeLayout, so a
// value survives a round trip through Asterisk unchanged. The JSON strings
// "" and null decode to the zero Time.
type Time struct {
	time.Time
}

// MarshalJSON writes t in TimeLayout.
func (t Time) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, len(TimeLayout)+2)
	b = append(b, '"')
	b = t.Time.AppendFormat(b, TimeLayout)
	return append(b, '"'), nil
}

// UnmarshalJSON accepts TimeLayout, its variants without fraction or with
// any number of fractional digits, and RFC 3339.
func (t *Time) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		return nil
	}
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return fmt.Errorf("ari: time: want a JSON string, got %.40q", b)
	}
	s := string(b[1 : len(b)-1])
	if s == "" {
		t.Time = time.Time{}
		return nil
	}
	p, err := ParseTime(s)
	if err != nil {
		return err
	}
	t.Time = p
	return nil
}

// ParseTime parses a timestamp in Asterisk's layout or in RFC 3339.
func ParseTime(s string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02T15:04:05.999999999-0700", time.RFC3339Nano} {
		if p, err := time.Parse(layout, s); err == nil {
			return p, nil
		}
	}
	return time.Time{}, fmt.Errorf("ari: time %q is neither Asterisk's %s nor RFC 3339", s, TimeLayout)
}

// String formats t in TimeLayout.
func (t Time) String() string { return t.Time.Format(TimeLayout) }
