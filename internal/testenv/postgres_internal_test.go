package testenv

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFindPostgres(t *testing.T) {
	root := t.TempDir()
	mk := func(major, name string) {
		t.Helper()
		dir := filepath.Join(root, major, "bin")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	notOnPath := func(string) (string, error) { return "", errors.New("not found") }
	pattern := filepath.Join(root, "*", "bin")

	// Nothing installed: the error names the exact install command.
	_, err := findPostgres(pattern, notOnPath)
	if err == nil || !strings.Contains(err.Error(), "`apt-get install -y postgresql`") {
		t.Fatalf("findPostgres(nothing installed) = %v; want the install command", err)
	}
	// 9 and 16 complete, 17 without postgres: the newest complete one
	// wins, compared as numbers (16 > 9).
	mk("9", "initdb")
	mk("9", "postgres")
	mk("16", "initdb")
	mk("16", "postgres")
	mk("17", "initdb")
	b, err := findPostgres(pattern, notOnPath)
	if err != nil || b.initdb != filepath.Join(root, "16", "bin", "initdb") || b.postgres != filepath.Join(root, "16", "bin", "postgres") {
		t.Fatalf("findPostgres = %+v, %v; want major 16", b, err)
	}
	// Not under the pattern but on PATH (another distribution).
	onPath := func(name string) (string, error) { return "/opt/pg/bin/" + name, nil }
	b, err = findPostgres(filepath.Join(root, "none", "*"), onPath)
	if err != nil || b.initdb != "/opt/pg/bin/initdb" {
		t.Fatalf("findPostgres(PATH) = %+v, %v", b, err)
	}
}
