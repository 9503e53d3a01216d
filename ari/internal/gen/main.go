// Command gen writes package ari's models_gen.go and events_gen.go from
// Asterisk's ARI Swagger 1.2 files (rest-api/api-docs/*.json).
//
// It is run by "go generate ./ari/" through the directive in ari/doc.go. The
// schema directory comes from the environment variable ARI_API_DOCS; when it
// is unset the generator uses ../shared/ari-api-docs. A relative directory is
// resolved against the module root (the directory holding go.mod), so the
// result does not depend on where go generate was started.
//
// The schema is not vendored into the repository (it is Asterisk's), which is
// why the generated files are committed and main_test.go checks they are not
// stale.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	out := flag.String("out", "", "output directory (default: <module root>/ari)")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "ari/internal/gen:", err)
		os.Exit(1)
	}
}

func run(out string) error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	dir := schemaDir(root)
	files, err := Generate(dir)
	if err != nil {
		return err
	}
	if out == "" {
		out = filepath.Join(root, "ari")
	}
	for name, src := range files {
		if err := os.WriteFile(filepath.Join(out, name), src, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
	}
	return nil
}

// moduleRoot walks up from the working directory to the directory holding go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("module root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("module root: no go.mod above the working directory")
		}
		dir = parent
	}
}

// schemaDir returns the Swagger directory: $ARI_API_DOCS or ../shared/ari-api-docs,
// relative paths being taken from the module root.
func schemaDir(root string) string {
	dir := os.Getenv("ARI_API_DOCS")
	if dir == "" {
		dir = filepath.Join("..", "shared", "ari-api-docs")
	}
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(root, dir)
	}
	return dir
}
