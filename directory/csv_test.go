package directory

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
)

func parseFile(t *testing.T, name string) ([]Row, []*RowError) {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, problems, err := Parse(f)
	if err != nil {
		t.Fatalf("Parse(%s): %v", name, err)
	}
	return rows, problems
}

func parseString(t *testing.T, s string) ([]Row, []string) {
	t.Helper()
	rows, problems, err := Parse(strings.NewReader(s))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	var ps []string
	for _, p := range problems {
		ps = append(ps, fmt.Sprintf("%d: %v", p.Line, p))
	}
	return rows, ps
}

func TestParseGoodFile(t *testing.T) {
	rows, problems := parseFile(t, "testdata/directory_good.csv")
	if len(problems) > 0 {
		t.Fatalf("problems in the good file: %v", problems[0])
	}
	if len(rows) != 18 {
		t.Fatalf("%d rows, want 18", len(rows))
	}
	first := rows[0]
	if first.Line != 2 || first.Entry.Name != "CAV Padova Donne al Centro" || first.Entry.Type != TypeCAV ||
		first.Entry.Province != "PD" || first.Entry.Region != "Veneto" || first.Entry.Phone != "049 555 0101" ||
		first.Entry.Dial != "0495550101" || first.Entry.Hours.String() != "lun-ven 09:00-18:00; sab 09:00-13:00" ||
		first.Entry.Confidential || first.Entry.Code != "" {
		t.Errorf("first row = %+v", first)
	}
	for _, r := range rows {
		if r.Entry.Type == TypeShelter && !r.Entry.Confidential {
			t.Errorf("line %d: shelter %q not confidential", r.Line, r.Entry.Name)
		}
		if r.Entry.Type != TypeShelter && r.Entry.Confidential {
			t.Errorf("line %d: %q confidential without being asked", r.Line, r.Entry.Name)
		}
	}
}

// TestParseBadFile: three bad rows, each reported with its line and
// column, and no row returned from them.
func TestParseBadFile(t *testing.T) {
	rows, problems := parseFile(t, "testdata/directory_bad.csv")
	var got []string
	for _, p := range problems {
		got = append(got, fmt.Sprintf("%d: %v", p.Line, p))
	}
	want := []string{
		`3: column "phone": "abc" is not a phone number`,
		`4: column "province": "XX" is not an Italian province (write its sigla: PD, RM, MI, …)`,
		`5: column "hours": "lun-ven 25:00-18:00": "25:00" is not a time of day such as 09:00`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(rows) != 2 || rows[0].Line != 2 || rows[1].Line != 6 {
		t.Errorf("good rows = %+v, want lines 2 and 6", rows)
	}
	for _, p := range problems {
		if p.Column == "" {
			t.Errorf("problem without a column: %v", p)
		}
	}
}

func TestParseItalianHeaderBOMComma(t *testing.T) {
	rows, problems := parseFile(t, "testdata/directory_italian.csv")
	if len(problems) > 0 {
		t.Fatalf("problems: %v", problems)
	}
	if len(rows) != 2 {
		t.Fatalf("%d rows, want 2", len(rows))
	}
	if e := rows[0].Entry; e.Code != "2001" || e.Province != "PD" || e.Type != TypeCAV || e.Dial != "0495550101" {
		t.Errorf("row 1 = %+v", e)
	}
	if e := rows[1].Entry; e.Name != `Casa Rifugio "Laguna"` || e.Province != "VE" || !e.Confidential || e.Region != "Veneto" {
		t.Errorf("row 2 = %+v", e)
	}
}

func TestParseProblems(t *testing.T) {
	const head = "name;type;province;phone;hours;confidential;notes\n"
	tests := []struct {
		name, in string
		want     []string
	}{
		{"unknown column", "name;type;province;phone;fax\nA;cav;PD;049 555 0101;x\n",
			[]string{`1: column "fax": unknown column (want code, name, type, region, province, municipality, address, phone, hours, notes, confidential)`}},
		{"missing column", "name;type;province\nA;cav;PD\n",
			[]string{`1: column "phone": missing from the header`}},
		{"duplicate column", "name;type;province;phone;telefono\n",
			[]string{`1: column "telefono": column phone appears twice`}},
		{"too few fields", head + "A;cav;PD\n", []string{`2: has 3 fields; the header has 7`}},
		{"too many fields", head + "A;cav;PD;049 555 0101;;;;extra\n", []string{`2: has 8 fields; the header has 7`}},
		{"trailing empty fields are fine", head + "A;cav;PD;049 555 0101;;;;;\n", nil},
		{"blank rows skipped", head + "\n;;;;;;\nA;cav;PD;049 555 0101;;;\n", nil},
		{"every problem of a row", head + ";bakery;XX;abc;lun;forse;\n", []string{
			`2: column "name": is empty`,
			`2: column "type": "bakery" is not a service type (cav, shelter, police, carabinieri, health, legal, social, other, or Italian: centro antiviolenza, casa rifugio, …)`,
			`2: column "province": "XX" is not an Italian province (write its sigla: PD, RM, MI, …)`,
			`2: column "phone": "abc" is not a phone number`,
			`2: column "hours": "lun": want days then times, as in "lun-ven 09:00-18:00"`,
			`2: column "confidential": "forse" is not yes or no (sì/no, true/false, 1/0)`,
		}},
		{"shelter cannot be public", head + "A;casa rifugio;PD;049 555 0101;;no;\n",
			[]string{`2: column "confidential": "no": a shelter (casa rifugio) is always confidential; its address must never be printed`}},
		{"region mismatch", "name;type;province;phone;region\nA;cav;PD;049 555 0101;Lazio\n",
			[]string{`2: column "region": "Lazio" is not the region of PD (Padova is in Veneto)`}},
		{"control character", head + "A\x07;cav;PD;049 555 0101;;;\n",
			[]string{`2: column "name": "A\a" contains the control character U+0007`}},
		{"newline allowed in notes", head + "A;cav;PD;049 555 0101;;;\"one\ntwo\"\nB;cav;PD;049 555 0102;;;\n", nil},
		{"not UTF-8", head + "Citt\xe0;cav;PD;049 555 0101;;;\n",
			[]string{`2: column "name": is not UTF-8 text: save the file as "CSV UTF-8"`}},
		{"bare quote", head + "A \"B\";cav;PD;049 555 0101;;;\nC;cav;PD;049 555 0102;;;\n",
			[]string{`2: a " in an unquoted field (column 3): quote the field and double the "`}},
		{"duplicate service", head + "A;cav;PD;049 555 0101;;;\nB;cav;PD;049 555 0102;;;\n a ;CAV;pd;049 555 0103;;;\n",
			[]string{`4: same name, type and municipality as line 2: merge them, or give each a code`}},
		{"duplicate code", "code;name;type;province;phone\n1234;A;cav;PD;049 555 0101\n1234;B;cav;PD;049 555 0102\n",
			[]string{`3: column "code": 1234 is also the code on line 2`}},
		{"bad code", "code;name;type;province;phone\n0123;A;cav;PD;049 555 0101\n12345;B;cav;PD;049 555 0102\n",
			[]string{`2: column "code": "0123" is not a code: want four digits, 1000 to 9999`,
				`3: column "code": "12345" is not a code: want four digits, 1000 to 9999`}},
		{"name too long", head + strings.Repeat("x", 201) + ";cav;PD;049 555 0101;;;\n",
			[]string{`2: column "name": is 201 characters long; at most 200`}},
		{"value in a column without a name", "name;type;province;phone;\nA;cav;PD;049 555 0101;surprise\n",
			[]string{`2: field 5 has a value but no column name in the header`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, got := parseString(t, tt.in)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestParseLineNumbersAfterMultilineField(t *testing.T) {
	in := "name;type;province;phone;notes\nA;cav;PD;049 555 0101;\"one\ntwo\nthree\"\nB;cav;PD;abc;\n"
	_, got := parseString(t, in)
	if len(got) != 1 || got[0] != `5: column "phone": "abc" is not a phone number` {
		t.Errorf("problems = %q, want the bad phone on line 5", got)
	}
}

func TestParseSeparator(t *testing.T) {
	for _, in := range []string{
		"name;type;province;phone\nA, B;cav;PD;049 555 0101\n",
		"name,type,province,phone\n\"A, B\",cav,PD,049 555 0101\n",
		"name\ttype\tprovince\tphone\nA, B\tcav\tPD\t049 555 0101\n",
		"\"name;x\",type,province,phone\n",
	} {
		rows, problems, err := Parse(strings.NewReader(in))
		if strings.HasPrefix(in, `"name;x"`) {
			// A quoted ';' in the header is not a separator: ',' wins and
			// the header names an unknown column.
			if err != nil || len(problems) != 1 || problems[0].Column != "name;x" {
				t.Errorf("quoted header: %v %v", problems, err)
			}
			continue
		}
		if err != nil || len(problems) > 0 || len(rows) != 1 || rows[0].Entry.Name != "A, B" {
			t.Errorf("Parse(%q) = %+v, %v, %v", in, rows, problems, err)
		}
	}
}

func TestParseWholeFileErrors(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"empty", "", "the file is empty"},
		{"only BOM and spaces", "\uFEFF \n\n", "the file is empty"},
		{"too large", strings.Repeat("x", MaxFileSize+1), "larger than 16 MiB"},
	}
	for _, tt := range tests {
		_, _, err := Parse(strings.NewReader(tt.in))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
	_, _, err := Parse(errReader{})
	if !errors.Is(err, errRead) {
		t.Errorf("read error not wrapped: %v", err)
	}
}

var errRead = errors.New("disk on fire")

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errRead }

func TestWriteCSVRoundTrip(t *testing.T) {
	rows, _ := parseFile(t, "testdata/directory_good.csv")
	coded, err := assignCodes(rows, nil)
	if err != nil {
		t.Fatal(err)
	}
	var entries []Entry
	for _, r := range coded {
		entries = append(entries, r.Entry)
	}
	var b strings.Builder
	if err := WriteCSV(&b, entries); err != nil {
		t.Fatal(err)
	}
	again, problems, err := Parse(strings.NewReader(b.String()))
	if err != nil || len(problems) > 0 {
		t.Fatalf("re-parse of WriteCSV output: %v %v", problems, err)
	}
	if len(again) != len(entries) {
		t.Fatalf("%d rows back, want %d", len(again), len(entries))
	}
	for i := range entries {
		if !again[i].Entry.Equal(entries[i]) {
			t.Errorf("row %d:\n got %+v\nwant %+v", i, again[i].Entry, entries[i])
		}
	}
}
