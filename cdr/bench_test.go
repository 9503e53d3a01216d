package cdr_test

import (
	"bufio"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/helpline-it/helpline/cdr"
)

// dataDir is the shared data directory: $HELPLINE_DATA, else
// ../shared/data relative to the repository root.
func dataDir(tb testing.TB) string {
	tb.Helper()
	if d := os.Getenv("HELPLINE_DATA"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "shared", "data")
}

func seedLines(b *testing.B) [][]byte {
	b.Helper()
	f, err := os.Open(filepath.Join(dataDir(b), "quarter-2025-summer.jsonl.gz"))
	if err != nil {
		b.Fatalf("seed data: %v (set HELPLINE_DATA)", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		b.Fatal(err)
	}
	var lines [][]byte
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		lines = append(lines, append([]byte(nil), sc.Bytes()...))
	}
	return lines
}

func BenchmarkDecodeNeutral(b *testing.B) {
	lines := seedLines(b)
	h := hasher(b)
	b.ResetTimer()
	for i := range b.N {
		if _, err := cdr.DecodeNeutral(lines[i%len(lines)], h); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkIdentify(b *testing.B) {
	h := hasher(b)
	for range b.N {
		h.Identify("+393335937605")
	}
}

func BenchmarkHashCanonical(b *testing.B) {
	h := hasher(b)
	for range b.N {
		h.HashCanonical("+393335937605")
	}
}

var _ = io.EOF
