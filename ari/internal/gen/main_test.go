package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGeneratedFilesAreFresh re-runs the generator in memory and compares
// its output with the committed files: an edit to the generator or a new
// schema must come with "go generate ./ari/".
func TestGeneratedFilesAreFresh(t *testing.T) {
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := schemaDir(root)
	if _, err := os.Stat(filepath.Join(dir, "events.json")); err != nil {
		t.Fatalf("ARI schema not found (%v): set ARI_API_DOCS to the directory of Asterisk's ARI Swagger files (default ../shared/ari-api-docs from the module root)", err)
	}
	files, err := Generate(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 {
		t.Fatalf("generator produced %d files, want models_gen.go and events_gen.go", len(files))
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join(root, "ari", name))
		if err != nil {
			t.Fatalf("%s: %v (run go generate ./ari/)", name, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("ari/%s is stale: run go generate ./ari/ (first differing line: %s)", name, firstDiff(got, want))
		}
	}
}

func firstDiff(a, b []byte) string {
	al, bl := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := 0; i < len(al) && i < len(bl); i++ {
		if al[i] != bl[i] {
			return strings.TrimSpace(al[i]) + " ≠ " + strings.TrimSpace(bl[i])
		}
	}
	return "lengths differ"
}

func TestGenerateFailsClearlyWithoutSchema(t *testing.T) {
	_, err := Generate(t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "ARI_API_DOCS") {
		t.Fatalf("Generate(empty dir) error = %v, want one naming ARI_API_DOCS", err)
	}
}

func TestGoName(t *testing.T) {
	for in, want := range map[string]string{
		"channel_ids": "ChannelIDs", "tech_cause": "TechCause", "duration_ms": "DurationMS",
		"NOT_INUSE": "NotInuse", "Dialing Offhook": "DialingOffhook", "Pre-ring": "PreRing",
		"creationtime": "CreationTime", "target_uri": "TargetURI", "id": "ID",
	} {
		if got := goName(in); got != want {
			t.Errorf("goName(%q) = %q, want %q", in, got, want)
		}
	}
}
