package config

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// FuzzParse feeds the loader arbitrary bytes. It must never panic, and it
// must either return a complete Config or well-formed, deterministic
// Errors. The seed corpus is every file under testdata/ and the example;
// found inputs are kept under testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	files, err := filepath.Glob("testdata/*.yaml")
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add(ExampleYAML())
	instants := []time.Time{
		time.Date(2025, 3, 30, 1, 30, 0, 0, time.UTC),
		time.Date(2025, 6, 10, 18, 0, 0, 0, time.UTC),
		time.Date(2025, 10, 26, 1, 0, 0, 0, time.UTC),
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("fuzz.yaml", data)
		if err != nil {
			if c != nil {
				t.Fatalf("Parse returned both a config and %v", err)
			}
			var errs Errors
			if !errors.As(err, &errs) || len(errs) == 0 || len(errs) > maxErrors+1 {
				t.Fatalf("error %T (%d items) is not a bounded config.Errors: %v", err, len(errs), err)
			}
			// YAML breaks lines at CR LF, LF and a lone CR (old Mac
			// files): so do its line numbers (testdata/fuzz/FuzzParse/345ed437356be7bf).
			lines := strings.Count(strings.ReplaceAll(strings.ReplaceAll(string(data), "\r\n", "\n"), "\r", "\n"), "\n") + 2
			for _, e := range errs {
				if e.File != "fuzz.yaml" || e.Msg == "" || e.Line < 0 || e.Line > lines || strings.ContainsAny(e.Error(), "\n\r") {
					t.Fatalf("malformed error %#v", e)
				}
			}
			_, again := Parse("fuzz.yaml", data)
			if again == nil || again.Error() != err.Error() {
				t.Fatalf("Parse is not deterministic:\n%v\n---\n%v", err, again)
			}
			return
		}
		if c.Location == nil || len(c.Languages) == 0 || len(c.Operators) == 0 {
			t.Fatalf("incomplete config: %+v", c)
		}
		if !slices.IsSortedFunc(c.Languages, func(a, b Language) int { return menuRank(a.Digit) - menuRank(b.Digit) }) {
			t.Fatalf("languages not in menu order: %+v", c.Languages)
		}
		for _, at := range instants {
			if open := c.OpenLanguages(at); !slices.Contains(open, c.IVR.DefaultLanguage) {
				t.Fatalf("default language %q closed at %v: %q", c.IVR.DefaultLanguage, at, open)
			}
		}
		for _, l := range c.Languages {
			for _, id := range CallerPrompts() {
				if p := c.Prompt(l.Code, id); p.Text == "" && len(p.Sound) == 0 {
					t.Fatalf("%s has no %s prompt", l.Code, id)
				}
			}
		}
	})
}
