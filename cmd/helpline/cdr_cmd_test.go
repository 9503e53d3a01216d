package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/helpline-it/helpline/cdr"
	"github.com/helpline-it/helpline/cdr/sqlite"
	"github.com/helpline-it/helpline/config"
)

const (
	cdrSample   = "../../cdr/testdata/sample.jsonl"
	cdrThreeBad = "../../cdr/testdata/three-bad.jsonl"
	cdrTestKey  = "0123456789abcdef0123456789abcdef-cdr"
)

var cdrEnv = map[string]string{envHMACKey: cdrTestKey}

// countCDR opens the database at path and counts its records.
func countCDR(t *testing.T, path string) int {
	t.Helper()
	db, err := sqlite.Open(t.Context(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	n, err := db.Count(t.Context(), cdr.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func getCDR(t *testing.T, path, id string) *cdr.Record {
	t.Helper()
	db, err := sqlite.Open(t.Context(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	r, err := db.Get(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestCdrImportAndReimport(t *testing.T) {
	db := filepath.Join(t.TempDir(), "new", "cdr.db") // created with its directory
	r := runCLI(t, cdrEnv, "", "cdr", "import", "--db", db, cdrSample)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("import: exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	if want := cdrSample + ": imported 9 new records into " + db + " (0 already there)"; !strings.HasPrefix(r.stdout, want) {
		t.Errorf("stdout = %q, want it to start with %q", r.stdout, want)
	}
	if n := countCDR(t, db); n != 9 {
		t.Fatalf("%d records stored, want 9", n)
	}
	r = runCLI(t, cdrEnv, "", "cdr", "import", "--db", db, cdrSample)
	if r.code != 0 || r.stdout != cdrSample+": 0 new records: all 9 were already in "+db+"\n" {
		t.Fatalf("re-import: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if n := countCDR(t, db); n != 9 {
		t.Fatalf("%d records after re-import, want 9", n)
	}
}

func TestCdrImportBadLines(t *testing.T) {
	db := filepath.Join(t.TempDir(), "cdr.db")
	r := runCLI(t, cdrEnv, "", "cdr", "import", "--db", db, cdrThreeBad)
	if r.code != 1 || r.stdout != "" {
		t.Fatalf("exit %d, stdout %q; want 1 and nothing on stdout", r.code, r.stdout)
	}
	got := lines(r.stderr)
	want := []string{
		cdrThreeBad + `:2: unknown inbound outcome "hung_up"`,
		cdrThreeBad + `:4: missing connected_at (answered); missing operator (answered)`,
		cdrThreeBad + `:5: bad JSON: the line ends inside a value`,
		cdrThreeBad + `: 3 bad lines of 6; nothing imported`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("stderr:\n%s\nwant:\n%s", r.stderr, strings.Join(want, "\n"))
	}
	if n := countCDR(t, db); n != 0 {
		t.Fatalf("%d records stored from a file with bad lines", n)
	}
}

func TestCdrImportCapsErrorList(t *testing.T) {
	var b strings.Builder
	for i := range 25 {
		fmt.Fprintf(&b, `{"id":"x%d","direction":"up"}`+"\n", i)
	}
	file := writeTemp(t, "bad.jsonl", b.String())
	r := runCLI(t, cdrEnv, "", "cdr", "import", "--db", filepath.Join(t.TempDir(), "cdr.db"), "--max-errors", "3", file)
	got := lines(r.stderr)
	if r.code != 1 || len(got) != 5 || !strings.HasPrefix(got[2], file+":3: ") ||
		got[3] != file+": … and 22 more bad lines" || got[4] != file+": 25 bad lines of 25; nothing imported" {
		t.Fatalf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
}

func TestCdrImportKeys(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "hmac.key")
	if err := os.WriteFile(keyFile, []byte(cdrTestKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	shortFile := filepath.Join(dir, "short.key")
	os.WriteFile(shortFile, []byte("too-short"), 0o600)
	cfgFile := filepath.Join(dir, "helpline.yaml")
	cfgDB := filepath.Join(dir, "from-config.db")
	cfgText := strings.Replace(string(config.ExampleYAML()), "hmac_key_env: HELPLINE_HMAC_KEY", "hmac_key_file: "+keyFile, 1)
	cfgText = strings.Replace(cfgText, "path: /var/lib/helpline/cdr.db", "path: "+cfgDB, 1)
	if !strings.Contains(cfgText, cfgDB) {
		t.Fatal("example configuration has no cdr path to replace")
	}
	os.WriteFile(cfgFile, []byte(cfgText), 0o600)

	fromEnv := filepath.Join(dir, "env.db")
	fromFile := filepath.Join(dir, "file.db")
	tests := []struct {
		name   string
		env    map[string]string
		args   []string
		code   int
		stderr string
	}{
		{"env", cdrEnv, []string{"--db", fromEnv}, 0, ""},
		{"key file", nil, []string{"--db", fromFile, "--hmac-key-file", keyFile}, 0, ""},
		{"config", nil, []string{"--config", cfgFile}, 0, ""},
		{"no key", nil, []string{"--db", filepath.Join(dir, "x.db")}, 2,
			"helpline: cdr import: no HMAC key to hash caller numbers with: set HELPLINE_HMAC_KEY, or pass --hmac-key-file or --config (use the key of 'helpline serve') (see 'helpline cdr import --help')"},
		{"short key", map[string]string{envHMACKey: "short"}, []string{"--db", filepath.Join(dir, "x.db")}, 2,
			"helpline: cdr import: the HMAC key from environment variable HELPLINE_HMAC_KEY is 5 bytes; at least 32 are needed (see 'helpline cdr import --help')"},
		{"short key file", nil, []string{"--db", filepath.Join(dir, "x.db"), "--hmac-key-file", shortFile}, 2,
			"helpline: cdr import: the HMAC key from --hmac-key-file " + shortFile + " is 9 bytes; at least 32 are needed (see 'helpline cdr import --help')"},
		{"missing key file", nil, []string{"--db", filepath.Join(dir, "x.db"), "--hmac-key-file", filepath.Join(dir, "none")}, 2,
			"helpline: cdr import: --hmac-key-file: open " + filepath.Join(dir, "none") + ": no such file or directory (see 'helpline cdr import --help')"},
		{"no store", cdrEnv, nil, 2,
			"helpline: cdr import: missing --db (an SQLite file) or --config (see 'helpline cdr import --help')"},
		{"no file", cdrEnv, []string{"--db", filepath.Join(dir, "x.db"), filepath.Join(dir, "nothing.jsonl")}, 2,
			"helpline: cdr import: " + filepath.Join(dir, "nothing.jsonl") + ": no such file (see 'helpline cdr import --help')"},
		{"bad max-errors", cdrEnv, []string{"--db", filepath.Join(dir, "x.db"), "--max-errors", "-1"}, 2,
			"helpline: cdr import: invalid --max-errors -1: want 0 or more (see 'helpline cdr import --help')"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"cdr", "import"}, tt.args...)
			if !strings.HasSuffix(args[len(args)-1], ".jsonl") {
				args = append(args, cdrSample)
			}
			r := runCLI(t, tt.env, "", args...)
			if r.code != tt.code || strings.TrimSuffix(r.stderr, "\n") != tt.stderr {
				t.Fatalf("exit %d, stderr %q; want %d, %q", r.code, r.stderr, tt.code, tt.stderr)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "x.db")); err == nil {
		t.Error("a failed import created a database")
	}
	// The same key from three places gives the same hashes; the config
	// also stamps its service on the records.
	a, b, c := getCDR(t, fromEnv, "in-1"), getCDR(t, fromFile, "in-1"), getCDR(t, cfgDB, "in-1")
	if a.CallerHash == "" || a.CallerHash != b.CallerHash || b.CallerHash != c.CallerHash {
		t.Fatalf("hashes differ: %s %s %s", a.CallerHash, b.CallerHash, c.CallerHash)
	}
	if a.Service != "" || c.Service != "1522" {
		t.Fatalf("service %q without config, %q with; want \"\" and \"1522\"", a.Service, c.Service)
	}
}

func TestCdrImportStdinAndUnknownKeys(t *testing.T) {
	db := filepath.Join(t.TempDir(), "cdr.db")
	line := `{"id":"o1","direction":"outbound","arrived_at":"2025-06-02T09:10:00Z","outcome":"busy","operator":"op1","callee":"+390612345679","ended_at":"2025-06-02T09:10:05Z","colour":"red"}` + "\n"
	r := runCLI(t, cdrEnv, line, "cdr", "import", "--db", db, "-")
	if r.code != 1 || !strings.Contains(r.stderr, `stdin:1: unknown keys "colour"`) {
		t.Fatalf("strict: exit %d, stderr %q", r.code, r.stderr)
	}
	r = runCLI(t, cdrEnv, line, "cdr", "import", "--db", db, "--allow-unknown-keys", "-")
	if r.code != 0 || r.stderr != "stdin:1: warning: unknown keys colour dropped\n" || !strings.HasPrefix(r.stdout, "stdin: imported 1 new record ") {
		t.Fatalf("allowed: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

func TestCdrExport(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "cdr.db")
	if r := runCLI(t, cdrEnv, "", "cdr", "import", "--db", db, cdrSample); r.code != 0 {
		t.Fatalf("import: %s", r.stderr)
	}
	r := runCLI(t, nil, "", "cdr", "export", "--db", db)
	if r.code != 0 || r.stderr != "exported 9 records from "+db+" to stdout\n" {
		t.Fatalf("export: exit %d, stderr %q", r.code, r.stderr)
	}
	out := lines(r.stdout)
	if len(out) != 9 || !strings.HasPrefix(out[0], `{"id":"in-6"`) {
		t.Fatalf("export is not 9 lines in arrival order (in-6 arrived first, at 06:50 UTC):\n%s", r.stdout)
	}
	for _, raw := range []string{"+39", "3330000101", "0612345678", `"caller":`, `"callee":`} {
		if strings.Contains(r.stdout, raw) {
			t.Fatalf("export contains %q", raw)
		}
	}

	// Round trip through the CLI into another database, gzipped.
	gz := filepath.Join(dir, "export.jsonl.gz")
	if r := runCLI(t, nil, "", "cdr", "export", "--db", db, "--out", gz); r.code != 0 {
		t.Fatalf("export --out: %s", r.stderr)
	}
	zf, _ := os.Open(gz)
	zr, err := gzip.NewReader(zf)
	if err != nil {
		t.Fatalf("--out .gz is not gzip: %v", err)
	}
	unzipped, _ := io.ReadAll(zr)
	zf.Close()
	if string(unzipped) != r.stdout {
		t.Fatal("gzipped export differs from stdout export")
	}
	db2 := filepath.Join(dir, "copy.db")
	if r := runCLI(t, cdrEnv, "", "cdr", "import", "--db", db2, gz); r.code != 0 || !strings.Contains(r.stdout, "imported 9 new records") {
		t.Fatalf("import of export: exit %d, %s %s", r.code, r.stdout, r.stderr)
	}
	if again := runCLI(t, nil, "", "cdr", "export", "--db", db2); again.stdout != r.stdout {
		t.Fatalf("round trip changed the export:\n%s\nvs\n%s", again.stdout, r.stdout)
	}

	// Filters: days are local (Europe/Rome, UTC+2 in June).
	tests := []struct {
		args []string
		ids  string
	}{
		{[]string{"--direction", "outbound"}, "out-1 out-2 out-3"},
		{[]string{"--from", "2025-06-02T08:30:00Z", "--to", "2025-06-02T09:00:00Z"}, "in-4 in-5"},
		{[]string{"--from", "2025-06-02", "--to", "2025-06-03"}, "in-6 in-1 in-2 in-3 in-4 in-5 out-1 out-2 out-3"},
		{[]string{"--to", "2025-06-02"}, ""},
		{[]string{"--from", "2025-06-02", "--direction", "inbound"}, "in-6 in-1 in-2 in-3 in-4 in-5"},
		// Midnight in Los Angeles (UTC-7 in June) is 07:00 UTC, after in-6.
		{[]string{"--from", "2025-06-02", "--tz", "America/Los_Angeles", "--direction", "inbound"}, "in-1 in-2 in-3 in-4 in-5"},
		{[]string{"--service", "nobody"}, ""},
	}
	for _, tt := range tests {
		r := runCLI(t, nil, "", append([]string{"cdr", "export", "--db", db}, tt.args...)...)
		var ids []string
		for _, l := range lines(r.stdout) {
			ids = append(ids, strings.Split(l, `"`)[3])
		}
		if r.code != 0 || strings.Join(ids, " ") != tt.ids {
			t.Errorf("export %v: exit %d, ids %v, want %s (stderr %s)", tt.args, r.code, ids, tt.ids, r.stderr)
		}
	}
}

func TestCdrExportBadFlags(t *testing.T) {
	db := filepath.Join(t.TempDir(), "cdr.db")
	if r := runCLI(t, cdrEnv, "", "cdr", "import", "--db", db, cdrSample); r.code != 0 {
		t.Fatal(r.stderr)
	}
	missing := filepath.Join(t.TempDir(), "missing.db")
	tests := []struct {
		args   []string
		stderr string
	}{
		{[]string{"--db", missing}, "helpline: cdr export: " + missing + ": no such database file (see 'helpline cdr export --help')"},
		{nil, "helpline: cdr export: missing --db (an SQLite file) or --config (see 'helpline cdr export --help')"},
		{[]string{"--db", db, "--from", "June"}, `helpline: cdr export: invalid --from "June": want YYYY-MM-DD or an RFC 3339 time (see 'helpline cdr export --help')`},
		{[]string{"--db", db, "--from", "2025-06-02", "--to", "2025-06-01"}, "helpline: cdr export: invalid period: --to must be after --from (see 'helpline cdr export --help')"},
		{[]string{"--db", db, "--direction", "up"}, `helpline: cdr export: invalid --direction "up": want inbound or outbound (see 'helpline cdr export --help')`},
		{[]string{"--db", db, "--tz", "Mars/Olympus"}, `helpline: cdr export: invalid --tz "Mars/Olympus": not a known time zone (e.g. Europe/Rome) (see 'helpline cdr export --help')`},
	}
	for _, tt := range tests {
		r := runCLI(t, nil, "", append([]string{"cdr", "export"}, tt.args...)...)
		if r.code != 2 || strings.TrimSuffix(r.stderr, "\n") != tt.stderr || r.stdout != "" {
			t.Errorf("export %v: exit %d, stderr %q; want 2, %q", tt.args, r.code, r.stderr, tt.stderr)
		}
	}
	if _, err := os.Stat(missing); err == nil {
		t.Error("export created the missing database")
	}
}

func TestProgressBar(t *testing.T) {
	var buf bytes.Buffer
	var read atomic.Int64
	now := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	b := &progressBar{w: &buf, name: "q.jsonl.gz", size: 1000, read: &read, now: func() time.Time { return now }}
	read.Store(420)
	b.update(cdr.ImportResult{Records: 15230})
	want := "\rq.jsonl.gz [############..................]  42%  15230 records"
	if buf.String() != want {
		t.Fatalf("bar = %q, want %q", buf.String(), want)
	}
	read.Store(1000)
	b.update(cdr.ImportResult{Records: 20000, BadLines: 3}) // within 100 ms: not redrawn
	if buf.String() != want {
		t.Fatalf("redrawn within 100 ms: %q", buf.String())
	}
	now = now.Add(time.Second)
	b.update(cdr.ImportResult{Records: 20000, BadLines: 3})
	if !strings.HasSuffix(buf.String(), "\rq.jsonl.gz [##############################] 100%  20000 records, 3 bad") {
		t.Fatalf("bar = %q", buf.String())
	}
	b.done()
	if !strings.HasSuffix(buf.String(), "\r\033[K") {
		t.Fatal("done does not clear the line")
	}
	var none *progressBar
	none.done() // no bar (not a terminal): no panic, no output
	if isTerminal(&buf) {
		t.Fatal("a buffer is not a terminal")
	}
}
