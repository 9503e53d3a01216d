package ari_test

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// repoRoot is the module root (the directory holding go.mod).
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

// tracesDir is $ARITEST_TRACES or ../shared/traces/asterisk from the module
// root. The traces are test fixtures recorded from a real Asterisk; a missing
// directory fails the test (it is always present in CI).
func tracesDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("ARITEST_TRACES")
	if dir == "" {
		dir = filepath.Join("..", "shared", "traces", "asterisk")
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(repoRoot(t), dir)
	}
	if _, err := os.Stat(filepath.Join(dir, "rest_errors.jsonl")); err != nil {
		t.Fatalf("Asterisk traces not found (%v): set ARITEST_TRACES to the directory of the *.jsonl traces", err)
	}
	return dir
}

// traceLine is one line of a trace file (see the traces' README).
type traceLine struct {
	Dir         string          `json:"dir"`
	T           int64           `json:"t"`
	Method      string          `json:"method"`
	Path        string          `json:"path"`
	Query       json.RawMessage `json:"query"` // object for requests, string for ws_connect
	Body        json.RawMessage `json:"body"`
	Auth        string          `json:"auth"`
	Status      int             `json:"status"`
	ContentType string          `json:"content_type"`
	BodyBytes   int             `json:"body_bytes"`
	Conn        int             `json:"conn"`
	file        string
	line        int
}

func (l traceLine) queryMap(t testing.TB) map[string]string {
	t.Helper()
	m := map[string]string{}
	if len(l.Query) == 0 || string(l.Query) == "null" {
		return m
	}
	if err := json.Unmarshal(l.Query, &m); err != nil {
		t.Fatalf("%s:%d: query: %v", l.file, l.line, err)
	}
	return m
}

func traceFiles(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(tracesDir(t), "*.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no *.jsonl in %s", tracesDir(t))
	}
	sort.Strings(files)
	return files
}

func readTrace(t testing.TB, path string) []traceLine {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []traceLine
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<20), 1<<22)
	for n := 1; sc.Scan(); n++ {
		var l traceLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("%s:%d: %v", filepath.Base(path), n, err)
		}
		l.file, l.line = filepath.Base(path), n
		lines = append(lines, l)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

// exchange is a request of a trace with the response that follows it.
type exchange struct {
	req, resp traceLine
}

func traceExchanges(t testing.TB, name string) []exchange {
	t.Helper()
	lines := readTrace(t, filepath.Join(tracesDir(t), name))
	var out []exchange
	for i, l := range lines {
		if l.Dir != "request" {
			continue
		}
		for _, r := range lines[i+1:] {
			if r.Dir == "response" {
				out = append(out, exchange{l, r})
				break
			}
			if r.Dir == "request" {
				t.Fatalf("%s:%d: request without response", l.file, l.line)
			}
		}
	}
	return out
}
