package cdr_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/helpline-it/helpline/cdr"
	"github.com/helpline-it/helpline/cdr/memory"
)

// batchStore is a store whose Tx offers InsertBatch (as cdr/postgres's
// does), counting how records arrive; refuse names an ID the store
// refuses as invalid.
type batchStore struct {
	cdr.Store
	refuse           string
	batches, singles int
}

func (s *batchStore) Begin(ctx context.Context) (cdr.Tx, error) {
	tx, err := s.Store.Begin(ctx)
	if err != nil {
		return nil, err
	}
	return &batchTx{Tx: tx, s: s}, nil
}

type batchTx struct {
	cdr.Tx
	s *batchStore
}

func (t *batchTx) Insert(ctx context.Context, r cdr.Record) (bool, error) {
	t.s.singles++
	if r.ID == t.s.refuse {
		return false, cdr.Errorf(cdr.EINVALID, "record %s refused", r.ID)
	}
	return t.Tx.Insert(ctx, r)
}

func (t *batchTx) InsertBatch(ctx context.Context, recs []cdr.Record) (int, error) {
	t.s.batches++
	for i, r := range recs {
		if r.ID == t.s.refuse {
			return 0, cdr.Errorf(cdr.EINVALID, "record %d (of %d) refused", i, len(recs))
		}
	}
	n := 0
	for _, r := range recs {
		ok, err := t.Tx.Insert(ctx, r)
		if err != nil {
			return 0, err
		}
		if ok {
			n++
		}
	}
	return n, nil
}

// TestImportUsesInsertBatch: a Tx with InsertBatch gets whole batches,
// and the counts are those of the one-by-one path: records already
// stored and ids repeated in the file are duplicates, the first line wins.
func TestImportUsesInsertBatch(t *testing.T) {
	sample, err := os.ReadFile("testdata/sample.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	// The sample, then its first line again under a new id, and again
	// with the id of line 1 and another operator (a repeat).
	first := string(bytes.SplitN(sample, []byte("\n"), 2)[0])
	file := string(sample) + strings.Replace(first, `"in-1"`, `"in-new"`, 1) + "\n" +
		strings.Replace(first, `"op1001"`, `"op9999"`, 1) + "\n"

	plain, batched := memory.New(), &batchStore{Store: memory.New()}
	for _, s := range []cdr.Store{plain, batched} {
		pre, err := cdr.Import(t.Context(), s, strings.NewReader(first+"\n"), hasher(t), cdr.ImportOptions{})
		if err != nil || pre.Inserted != 1 {
			t.Fatalf("pre-import = %+v, %v", pre, err)
		}
	}
	batched.batches, batched.singles = 0, 0
	want, err := cdr.Import(t.Context(), plain, strings.NewReader(file), hasher(t), cdr.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := cdr.Import(t.Context(), batched, strings.NewReader(file), hasher(t), cdr.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) || got.Inserted != 9 || got.Duplicates != 2 {
		t.Fatalf("batched import = %+v, one-by-one = %+v; want 9 new, 2 duplicates", got, want)
	}
	if batched.batches == 0 || batched.singles != 0 {
		t.Fatalf("%d InsertBatch calls, %d Insert calls; want batches only", batched.batches, batched.singles)
	}
	r, err := batched.Get(t.Context(), "in-1")
	if err != nil || r.Operator != "op1001" {
		t.Fatalf("in-1 = %+v, %v; want the first line's (op1001)", r, err)
	}
}

// TestImportInsertBatchRefusalNamesTheLine: when the store refuses a
// record of a batch, the import names its line and stores nothing.
func TestImportInsertBatchRefusalNamesTheLine(t *testing.T) {
	s := &batchStore{Store: memory.New(), refuse: "out-2"}
	f, err := os.Open("testdata/sample.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, err = cdr.Import(t.Context(), s, f, hasher(t), cdr.ImportOptions{})
	if cdr.ErrorCode(err) != cdr.EINVALID || !strings.Contains(err.Error(), "import line 9: record out-2 refused") {
		t.Fatalf("Import = %v, want EINVALID naming line 9", err)
	}
	if n, _ := s.Count(t.Context(), cdr.Filter{}); n != 0 {
		t.Fatalf("%d records stored after a failed import, want 0", n)
	}
}
