package directory

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParse feeds small files to the parser. Properties: it never panics;
// every problem names a line that exists in the input (the header is line
// 1) and reads as one line; good rows are valid entries once coded and
// survive WriteCSV and a second Parse unchanged; and a good row's line is
// never also a problem's.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"directory_good.csv", "directory_bad.csv", "directory_changed.csv", "directory_italian.csv"} {
		data, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("name;type;province;phone\nA;cav;PD;049 555 0101\n"))
	f.Add([]byte("name,type,province,phone,hours\n\"A\"\"B\",shelter,RM,06 5550 0302,ven 20:00-08:00\n"))
	f.Add([]byte("code;name;type;province;phone\n1234;A;cav;PD;049 555 0101\n1234;B;cav;PD;112\n"))
	f.Add([]byte("name;type;province;phone\n\"unterminated;cav;PD;049\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 4096 {
			return
		}
		rows, problems, err := Parse(bytes.NewReader(data))
		if err != nil {
			if len(rows)+len(problems) > 0 {
				t.Fatalf("error %v with rows or problems", err)
			}
			return
		}
		lines := bytes.Count(data, []byte("\n")) + 1
		bad := map[int]bool{}
		for _, p := range problems {
			if p.Line < 1 || p.Line > lines {
				t.Fatalf("problem on line %d of a %d-line input: %v", p.Line, lines, p)
			}
			msg := p.Error()
			if strings.ContainsAny(msg, "\r\n") || !utf8.ValidString(msg) {
				t.Fatalf("problem message is not one line of text: %q", msg)
			}
			bad[p.Line] = true
		}
		for _, r := range rows {
			if bad[r.Line] {
				t.Fatalf("line %d is both a good row and a problem", r.Line)
			}
		}
		if len(problems) > 0 {
			return
		}
		coded, err := assignCodes(rows, nil)
		if err != nil {
			t.Fatal(err)
		}
		var entries []Entry
		for _, r := range coded {
			if err := r.Entry.Check(); err != nil {
				t.Fatalf("line %d parsed into an entry a store refuses: %v", r.Line, err)
			}
			entries = append(entries, r.Entry)
		}
		var buf bytes.Buffer
		if err := WriteCSV(&buf, entries); err != nil {
			t.Fatal(err)
		}
		again, problems, err := Parse(&buf)
		if err != nil || len(problems) > 0 {
			t.Fatalf("WriteCSV output does not parse: %v %v\n%s", err, problems, buf.String())
		}
		if len(again) != len(entries) {
			t.Fatalf("%d rows after the round trip, want %d", len(again), len(entries))
		}
		for i := range entries {
			if !again[i].Entry.Equal(entries[i]) {
				t.Fatalf("round trip changed row %d:\n got %+v\nwant %+v", i, again[i].Entry, entries[i])
			}
		}
	})
}

// FuzzParseHours: never panics; accepted hours render to a canonical
// string that parses back to the same hours.
func FuzzParseHours(f *testing.F) {
	for _, s := range []string{"", "24/7", "lun-ven 09:00-18:00; sab 09:00-13:00", "ven-lun 20:00-08:00",
		"lun,mer,ven 10.00-12.00", "dom chiuso", "lun-ven h24", "mon 9:00-24:00 01:00-02:00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := ParseHours(s)
		if err != nil {
			if strings.ContainsAny(err.Error(), "\n") && !strings.Contains(s, "\n") {
				t.Fatalf("multi-line error for a one-line input: %q", err)
			}
			return
		}
		again, err := ParseHours(h.String())
		if err != nil || !again.Equal(h) || again.String() != h.String() {
			t.Fatalf("%q → %q → %q, %v", s, h, again, err)
		}
	})
}
