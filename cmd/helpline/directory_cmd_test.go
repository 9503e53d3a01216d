package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/helpline-it/helpline/config"
)

const (
	dirGood    = "../../directory/testdata/directory_good.csv"
	dirBad     = "../../directory/testdata/directory_bad.csv"
	dirChanged = "../../directory/testdata/directory_changed.csv"
)

// importedDirectory returns a database holding directory_good.csv.
func importedDirectory(t *testing.T) string {
	t.Helper()
	db := filepath.Join(t.TempDir(), "helpline.db")
	r := runCLI(t, nil, "", "directory", "import", "--db", db, dirGood)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("import: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	return db
}

// codeOf finds a service's code in `directory list --json`.
func codeOf(t *testing.T, db, name string) string {
	t.Helper()
	for _, e := range listJSON(t, db) {
		if e["name"] == name {
			return e["code"].(string)
		}
	}
	t.Fatalf("no %q in the directory", name)
	return ""
}

func listJSON(t *testing.T, db string, extra ...string) []map[string]any {
	t.Helper()
	r := runCLI(t, nil, "", append([]string{"directory", "list", "--db", db, "--json"}, extra...)...)
	if r.code != 0 {
		t.Fatalf("list --json: exit %d, stderr %q", r.code, r.stderr)
	}
	var out []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("list --json is not JSON: %v\n%s", err, r.stdout)
	}
	return out
}

func TestDirectoryImport(t *testing.T) {
	db := filepath.Join(t.TempDir(), "helpline.db")
	r := runCLI(t, nil, "", "directory", "import", "--db", db, dirGood)
	if want := dirGood + ": imported 18 rows into " + db + ": 18 inserted, 0 updated, 0 unchanged\n"; r.code != 0 || r.stdout != want {
		t.Fatalf("import: exit %d, stdout %q, want %q; stderr %q", r.code, r.stdout, want, r.stderr)
	}
	before := codeOf(t, db, "CAV Padova Donne al Centro")

	r = runCLI(t, nil, "", "directory", "import", "--db", db, dirBad)
	want := []string{
		dirBad + `:3: column "phone": "abc" is not a phone number`,
		dirBad + `:4: column "province": "XX" is not an Italian province (write its sigla: PD, RM, MI, …)`,
		dirBad + `:5: column "hours": "lun-ven 25:00-18:00": "25:00" is not a time of day such as 09:00`,
		dirBad + `: 3 problems in 3 of 5 rows; nothing imported`,
	}
	if r.code != 1 || r.stdout != "" || strings.Join(lines(r.stderr), "\n") != strings.Join(want, "\n") {
		t.Errorf("bad file: exit %d, stdout %q, stderr:\n%s\nwant exit 1 and:\n%s", r.code, r.stdout, r.stderr, strings.Join(want, "\n"))
	}
	if n := len(listJSON(t, db)); n != 18 {
		t.Errorf("%d entries after the bad file, want the 18 before it", n)
	}

	r = runCLI(t, nil, "", "directory", "import", "--db", db, dirChanged)
	if want := dirChanged + ": imported 3 rows into " + db + ": 0 inserted, 1 updated, 2 unchanged; 15 services not in the file kept (--prune deletes them)\n"; r.code != 0 || r.stdout != want {
		t.Errorf("re-import: exit %d, stdout %q, want %q", r.code, r.stdout, want)
	}
	if after := codeOf(t, db, "CAV Padova Donne al Centro"); after != before {
		t.Errorf("the updated entry's code moved from %s to %s", before, after)
	}
	r = runCLI(t, nil, "", "directory", "show", "--db", db, before)
	if !strings.Contains(r.stdout, "049 555 0199 (dialled as 0495550199)") {
		t.Errorf("show %s after the update:\n%s", before, r.stdout)
	}

	r = runCLI(t, nil, "", "directory", "import", "--db", db, "--prune", "--dry-run", dirChanged)
	if want := dirChanged + ": dry run, nothing written: 3 rows into " + db + ": 0 inserted, 0 updated, 3 unchanged; 15 services not in the file deleted\n"; r.code != 0 || r.stdout != want {
		t.Errorf("dry run: exit %d, stdout %q, want %q", r.code, r.stdout, want)
	}
	if n := len(listJSON(t, db)); n != 18 {
		t.Errorf("%d entries after a dry run, want 18", n)
	}
}

func TestDirectoryImportMaxErrors(t *testing.T) {
	file := writeTemp(t, "many.csv", "name;type;province;phone\n"+strings.Repeat("A;cav;PD;abc\n", 5))
	db := filepath.Join(t.TempDir(), "helpline.db")
	r := runCLI(t, nil, "", "directory", "import", "--db", db, "--max-errors", "2", file)
	got := lines(r.stderr)
	if r.code != 1 || len(got) != 4 || got[2] != file+": … and 3 more problems" || got[3] != file+": 5 problems in 5 of 5 rows; nothing imported" {
		t.Errorf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
}

func TestDirectoryImportStdinAndItalian(t *testing.T) {
	data, err := os.ReadFile("../../directory/testdata/directory_italian.csv")
	if err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(t.TempDir(), "helpline.db")
	r := runCLI(t, nil, string(data), "directory", "import", "--db", db, "-")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "stdin: imported 2 rows") {
		t.Fatalf("stdin import: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	r = runCLI(t, nil, "", "directory", "show", "--db", db, "2001")
	if r.code != 0 || !strings.Contains(r.stdout, "CAV Padova Donne al Centro") {
		t.Errorf("show 2001 (the file's own code): exit %d, %q", r.code, r.stdout)
	}
}

// TestDirectoryConfidential: list, search, suggest and show never print a
// shelter's address, notes, phone or municipality without --confidential.
func TestDirectoryConfidential(t *testing.T) {
	db := importedDirectory(t)
	shelter := codeOf(t, db, "Casa Rifugio Arcobaleno")
	secrets := []string{"Via Nascosta", "049 555 0102", "0495550102", "Ingresso solo tramite CAV"}
	commands := [][]string{
		{"directory", "list", "--db", db},
		{"directory", "list", "--db", db, "--json"},
		{"directory", "search", "--db", db, "rifugio"},
		{"directory", "search", "--db", db, "--json", "arcobaleno"},
		{"directory", "suggest", "--db", db, "--province", "PD", "--at", "2025-06-04 10:30"},
		{"directory", "suggest", "--db", db, "--province", "PD", "--json"},
		{"directory", "show", "--db", db, shelter},
		{"directory", "show", "--db", db, "--json", shelter},
	}
	for _, args := range commands {
		r := runCLI(t, nil, "", args...)
		if r.code != 0 || !strings.Contains(r.stdout, "Arcobaleno") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", args, r.code, r.stdout, r.stderr)
		}
		for _, s := range secrets {
			if strings.Contains(r.stdout, s) {
				t.Errorf("%q prints the shelter's %q:\n%s", args, s, r.stdout)
			}
		}
		r = runCLI(t, nil, "", append(args, "--confidential")...)
		if r.code != 0 || !strings.Contains(r.stdout, "049 555 0102") {
			t.Errorf("%q --confidential does not show the shelter's phone:\n%s", args, r.stdout)
		}
	}
	// A search on a hidden field finds nothing, unless asked.
	r := runCLI(t, nil, "", "directory", "search", "--db", db, "via", "nascosta")
	if r.code != 0 || r.stdout != "" || r.stderr != "no service matches\n" {
		t.Errorf("search for the shelter's street: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	r = runCLI(t, nil, "", "directory", "search", "--db", db, "--confidential", "via", "nascosta")
	if r.code != 0 || !strings.Contains(r.stdout, "Casa Rifugio Arcobaleno") {
		t.Errorf("search --confidential for the shelter's street: %q", r.stdout)
	}
	r = runCLI(t, nil, "", "directory", "show", "--db", db, "--confidential", shelter)
	if !strings.Contains(r.stdout, "Via Nascosta 7") || !strings.Contains(r.stdout, "Ingresso solo tramite CAV") {
		t.Errorf("show --confidential:\n%s", r.stdout)
	}
	for _, e := range listJSON(t, db) {
		if e["confidential"] == true && (e["redacted"] != true || e["phone"] != nil || e["address"] != nil) {
			t.Errorf("list --json shows a confidential entry: %v", e)
		}
	}
}

func TestDirectorySuggest(t *testing.T) {
	db := importedDirectory(t)
	r := runCLI(t, nil, "", "directory", "suggest", "--db", db, "--province", "028", "--at", "2025-06-04 12:30")
	if r.code != 0 {
		t.Fatalf("suggest: exit %d, stderr %q", r.code, r.stderr)
	}
	got := lines(r.stdout)
	if len(got) != 14 || got[0] != "Services for Padova (PD, Veneto) at Wed 04 Jun 2025 12:30 CEST; dial *20 and the code:" {
		t.Fatalf("suggest output:\n%s", r.stdout)
	}
	var order []string
	for _, l := range got[2:] {
		f := strings.Fields(l)
		order = append(order, f[1]+" "+f[2])
	}
	want := "PD open|PD open|PD open|PD open|PD open|PD closed,|PD closed,|VE open|VE open|VE unknown|TV closed,|VE closed,"
	if strings.Join(order, "|") != want {
		t.Errorf("province/status order:\n%s\nwant\n%s\n%s", strings.Join(order, "|"), want, r.stdout)
	}
	if !strings.Contains(got[7], "closed, opens Thu 10:00  cav          CAV Bassa Padovana") {
		t.Errorf("the closed centre's row: %q", got[7])
	}
	if !strings.HasPrefix(got[2], codeOf(t, db, "CAV Padova Donne al Centro")+" ") {
		t.Errorf("first suggestion %q, want the Padova centre", got[2])
	}

	r = runCLI(t, nil, "", "directory", "suggest", "--db", db, "--province", "RM", "--limit", "1", "--at", "2025-06-04T22:00:00+02:00")
	if got := lines(r.stdout); r.code != 0 || len(got) != 3 || !strings.Contains(got[2], "Casa rifugio Aurora") {
		t.Errorf("suggest RM at night, limit 1:\n%s", r.stdout)
	}
	r = runCLI(t, nil, "", "directory", "suggest", "--db", db, "--province", "AO")
	if r.code != 0 || r.stdout != "No service in Aosta (AO) or in the rest of Valle d'Aosta.\n" {
		t.Errorf("suggest AO: exit %d, %q", r.code, r.stdout)
	}
}

func TestDirectoryConfig(t *testing.T) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "from-config.db")
	text := strings.Replace(string(config.ExampleYAML()), "path: /var/lib/helpline/cdr.db", "path: "+dbPath, 1)
	text = strings.Replace(text, `call_service: "*20"`, `call_service: "*30"`, 1)
	if !strings.Contains(text, dbPath) || !strings.Contains(text, `"*30"`) {
		t.Fatal("example configuration has no cdr path or call_service code to replace")
	}
	cfg := writeTemp(t, "helpline.yaml", text)
	r := runCLI(t, nil, "", "directory", "import", "--config", cfg, dirGood)
	if r.code != 0 || !strings.Contains(r.stdout, "into "+dbPath) {
		t.Fatalf("import --config: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
	r = runCLI(t, nil, "", "directory", "suggest", "--config", cfg, "--province", "MI", "--at", "2025-06-04 10:00")
	if r.code != 0 || !strings.Contains(lines(r.stdout)[0], "dial *30 and the code") {
		t.Errorf("suggest --config: exit %d, %q", r.code, r.stdout)
	}
}

func TestDirectoryExportReimport(t *testing.T) {
	db := importedDirectory(t)
	r := runCLI(t, nil, "", "directory", "export", "--db", db)
	if r.code != 0 || !strings.HasPrefix(r.stdout, "code;name;type;") || !strings.Contains(r.stdout, "Via Nascosta 7") {
		t.Fatalf("export: exit %d\n%s", r.code, r.stdout)
	}
	other := filepath.Join(t.TempDir(), "other.db")
	r = runCLI(t, nil, r.stdout, "directory", "import", "--db", other, "-")
	if r.code != 0 {
		t.Fatalf("import of the export: %d %q", r.code, r.stderr)
	}
	a, b := listJSON(t, db, "--confidential"), listJSON(t, other, "--confidential")
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if string(ja) != string(jb) {
		t.Errorf("export → import changed the directory:\n%s\n%s", ja, jb)
	}
}

func TestDirectoryUsageErrors(t *testing.T) {
	db := importedDirectory(t)
	missing := filepath.Join(t.TempDir(), "none.db")
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"directory"}, 2, "helpline: directory: missing command (export, import, list, search, show, suggest)"},
		{[]string{"directory", "import", "--db", db}, 2, "helpline: directory import: missing argument FILE (see 'helpline directory import --help')"},
		{[]string{"directory", "import", "--db", db, "nope.csv"}, 2, "helpline: directory import: nope.csv: no such file (see 'helpline directory import --help')"},
		{[]string{"directory", "import", dirGood}, 2, "helpline: directory import: missing --db (an SQLite file) or --config (see 'helpline directory import --help')"},
		{[]string{"directory", "import", "--db", db, "--max-errors", "-1", dirGood}, 2, "helpline: directory import: invalid --max-errors -1: want 0 or more (see 'helpline directory import --help')"},
		{[]string{"directory", "list", "--db", missing}, 2, "helpline: directory list: " + missing + ": no such database file (import a directory first) (see 'helpline directory list --help')"},
		{[]string{"directory", "list", "--db", db, "extra"}, 2, `helpline: directory list: unexpected argument "extra" (see 'helpline directory list --help')`},
		{[]string{"directory", "list", "--db", db, "--province", "XX"}, 2, `helpline: directory list: invalid --province "XX": not an Italian province (a sigla such as PD) (see 'helpline directory list --help')`},
		{[]string{"directory", "list", "--db", db, "--region", "Padania"}, 2, `helpline: directory list: invalid --region "Padania": not an Italian region (see 'helpline directory list --help')`},
		{[]string{"directory", "list", "--db", db, "--type", "bakery"}, 2, "helpline: directory list: invalid --type: "},
		{[]string{"directory", "search", "--db", db}, 2, "helpline: directory search: missing argument WORD (see 'helpline directory search --help')"},
		{[]string{"directory", "suggest", "--db", db}, 2, "helpline: directory suggest: missing --province (a sigla such as PD) (see 'helpline directory suggest --help')"},
		{[]string{"directory", "suggest", "--db", db, "--province", "999"}, 2, `helpline: directory suggest: invalid --province "999": not an Italian province (a sigla such as PD, or its ISTAT number) (see 'helpline directory suggest --help')`},
		{[]string{"directory", "suggest", "--db", db, "--province", "PD", "--at", "tomorrow"}, 2, `helpline: directory suggest: invalid --at "tomorrow": want "2006-01-02 15:04" or RFC 3339 (see 'helpline directory suggest --help')`},
		{[]string{"directory", "suggest", "--db", db, "--province", "PD", "--tz", "Mars/Olympus"}, 2, `helpline: directory suggest: invalid --tz "Mars/Olympus": not a time zone such as Europe/Rome (see 'helpline directory suggest --help')`},
		{[]string{"directory", "suggest", "--db", db, "--province", "PD", "--limit", "-3"}, 2, `helpline: directory suggest: invalid --limit -3: want 0 (all) or more (see 'helpline directory suggest --help')`},
		{[]string{"directory", "show", "--db", db, "12a4"}, 2, `helpline: directory show: invalid code "12a4": want four digits, 1000 to 9999 (see 'helpline directory show --help')`},
		{[]string{"directory", "show", "--db", db, "1001"}, 1, "helpline: directory show: no service has code 1001"},
	}
	for _, tt := range tests {
		r := runCLI(t, nil, "", tt.args...)
		if r.code != tt.code || len(lines(r.stderr)) != 1 || !strings.HasPrefix(r.stderr, tt.want) || r.stdout != "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit %d and one line starting %q", tt.args, r.code, r.stdout, r.stderr, tt.code, tt.want)
		}
	}
	if _, err := os.Stat(missing); err == nil {
		t.Error("list on a missing database created it")
	}
}

func TestDirectoryEmpty(t *testing.T) {
	db := filepath.Join(t.TempDir(), "empty.db")
	file := writeTemp(t, "header.csv", "name;type;province;phone\n")
	if r := runCLI(t, nil, "", "directory", "import", "--db", db, file); r.code != 0 {
		t.Fatalf("import of a header-only file: %d %q", r.code, r.stderr)
	}
	r := runCLI(t, nil, "", "directory", "list", "--db", db)
	if r.code != 1 || !strings.Contains(r.stderr, "is empty: load one with 'helpline directory import'") {
		t.Errorf("list of an empty directory: exit %d, %q", r.code, r.stderr)
	}
}
