package cdr_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/helpline-it/helpline/cdr"
	"github.com/helpline-it/helpline/cdr/memory"
)

func importFile(t *testing.T, s cdr.Store, path string, opts cdr.ImportOptions) (cdr.ImportResult, error) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return cdr.Import(t.Context(), s, f, hasher(t), opts)
}

func TestImportSampleTwice(t *testing.T) {
	s := memory.New()
	res, err := importFile(t, s, "testdata/sample.jsonl", cdr.ImportOptions{NeutralOptions: cdr.NeutralOptions{Service: "1522"}})
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	want := cdr.ImportResult{Lines: 10, Records: 9, Inserted: 9}
	if fmt.Sprint(res) != fmt.Sprint(want) {
		t.Fatalf("first import = %+v, want %+v", res, want)
	}
	r, err := s.Get(t.Context(), "in-1")
	if err != nil || r.Service != "1522" {
		t.Fatalf("Get(in-1) = %+v, %v; want service 1522", r, err)
	}
	res, err = importFile(t, s, "testdata/sample.jsonl", cdr.ImportOptions{})
	if err != nil || res.Inserted != 0 || res.Duplicates != 9 {
		t.Fatalf("second import = %+v, %v; want 0 inserted, 9 duplicates", res, err)
	}
	if n, _ := s.Count(t.Context(), cdr.Filter{}); n != 9 {
		t.Fatalf("Count = %d after re-import, want 9", n)
	}
}

func TestImportBadLinesImportNothing(t *testing.T) {
	for _, workers := range []int{1, 2, 7} {
		t.Run(fmt.Sprint("workers=", workers), func(t *testing.T) {
			s := memory.New()
			res, err := importFile(t, s, "testdata/three-bad.jsonl", cdr.ImportOptions{Workers: workers})
			if !errors.Is(err, cdr.ErrBadLines) || cdr.ErrorCode(err) != cdr.EINVALID {
				t.Fatalf("Import = %v, want ErrBadLines", err)
			}
			if !strings.Contains(err.Error(), "3 bad lines of 6") {
				t.Errorf("error %q does not count the bad lines", err)
			}
			if res.BadLines != 3 || len(res.Bad) != 3 || res.Inserted != 0 || res.Records != 3 {
				t.Fatalf("result %+v; want 3 bad, 3 good, 0 inserted", res)
			}
			for i, line := range []int{2, 4, 5} {
				if res.Bad[i].Line != line {
					t.Errorf("Bad[%d] on line %d, want %d", i, res.Bad[i].Line, line)
				}
			}
			if n, _ := s.Count(t.Context(), cdr.Filter{}); n != 0 {
				t.Fatalf("%d records stored from a file with bad lines", n)
			}
		})
	}
}

func TestImportCapsListing(t *testing.T) {
	var b strings.Builder
	for i := range 50 {
		fmt.Fprintf(&b, `{"id":"x%d"}`+"\n", i)
	}
	res, err := cdr.Import(t.Context(), memory.New(), strings.NewReader(b.String()), hasher(t), cdr.ImportOptions{MaxListed: 5, Workers: 3})
	if !errors.Is(err, cdr.ErrBadLines) || res.BadLines != 50 || len(res.Bad) != 5 || res.Bad[4].Line != 5 {
		t.Fatalf("Import = %+v, %v; want 50 bad, first 5 listed", res, err)
	}
}

func TestImportProgressAndUnknownKeysInOrder(t *testing.T) {
	var b strings.Builder
	const n = 2100 // three batches
	for i := range n {
		fmt.Fprintf(&b, `{"id":"o%d","direction":"outbound","arrived_at":"2025-06-02T09:00:00Z","outcome":"busy","operator":"op1","callee":"+3906%08d","ended_at":"2025-06-02T09:00:05Z","extra%d":1}`+"\n", i, i, i%2)
	}
	var lines []int
	var last cdr.ImportResult
	calls := 0
	res, err := cdr.Import(t.Context(), memory.New(), strings.NewReader(b.String()), hasher(t), cdr.ImportOptions{
		Workers: 4,
		NeutralOptions: cdr.NeutralOptions{AllowUnknownKeys: true, OnUnknownKeys: func(l int, k []string) {
			if len(k) != 1 || k[0] != fmt.Sprintf("extra%d", (l-1)%2) {
				t.Errorf("line %d: unknown keys %v", l, k)
			}
			lines = append(lines, l)
		}},
		Progress: func(r cdr.ImportResult) {
			calls++
			if r.Lines < last.Lines {
				t.Errorf("progress went backwards: %d after %d", r.Lines, last.Lines)
			}
			last = r
		},
	})
	if err != nil || res.Inserted != n {
		t.Fatalf("Import = %+v, %v", res, err)
	}
	if len(lines) != n {
		t.Fatalf("OnUnknownKeys called %d times, want %d", len(lines), n)
	}
	for i, l := range lines {
		if l != i+1 {
			t.Fatalf("OnUnknownKeys out of order: call %d for line %d", i, l)
		}
	}
	if calls < 2 || last.Lines != n || last.Inserted != n {
		t.Fatalf("progress: %d calls, last %+v", calls, last)
	}
}

func TestImportCancelledStoresNothing(t *testing.T) {
	var b strings.Builder
	for i := range 2100 {
		fmt.Fprintf(&b, `{"id":"o%d","direction":"outbound","arrived_at":"2025-06-02T09:00:00Z","outcome":"busy","operator":"op1","callee":"+390612345678","ended_at":"2025-06-02T09:00:05Z"}`+"\n", i)
	}
	s := memory.New()
	ctx, cancel := context.WithCancel(t.Context())
	_, err := cdr.Import(ctx, s, strings.NewReader(b.String()), hasher(t), cdr.ImportOptions{
		Progress: func(cdr.ImportResult) { cancel() },
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Import = %v, want context.Canceled", err)
	}
	if n, _ := s.Count(t.Context(), cdr.Filter{}); n != 0 {
		t.Fatalf("cancelled import stored %d records", n)
	}
	// The store's writer is free again.
	if _, err := importFile(t, s, "testdata/sample.jsonl", cdr.ImportOptions{}); err != nil {
		t.Fatalf("import after a cancelled one: %v", err)
	}
}
