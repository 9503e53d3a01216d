package cdr

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"

	"github.com/helpline-it/helpline/callerid"
)

// DefaultMaxListed is how many bad lines an import keeps to show.
const DefaultMaxListed = 20

// importBatch is how many lines travel together between the import's
// goroutines: large enough to amortise channel hand-offs, small enough to
// keep memory flat.
const importBatch = 1024

// ImportOptions tunes Import.
type ImportOptions struct {
	// NeutralOptions apply to every line. OnUnknownKeys is called from
	// the goroutine that called Import, in line order.
	NeutralOptions
	// MaxListed caps ImportResult.Bad; DefaultMaxListed if 0.
	MaxListed int
	// Workers decode lines in parallel; GOMAXPROCS if 0. Hashing a
	// number (parsing it as a phone number first) is most of an import's
	// work.
	Workers int
	// Progress, if set, is called from the importing goroutine after
	// each batch of lines with the counts so far.
	Progress func(ImportResult)
}

// ImportResult counts what an import saw and did.
type ImportResult struct {
	// Lines is the number of lines read, blank ones included.
	Lines int
	// Records is the number of good lines.
	Records int
	// Inserted is the number of records new to the store. With bad lines
	// nothing is committed and Inserted is 0.
	Inserted int
	// Duplicates are good records whose ID was already stored or appeared
	// earlier in the file.
	Duplicates int
	// BadLines is the number of bad lines; Bad lists the first MaxListed.
	BadLines int
	Bad      []*LineError
}

// ErrBadLines is the cause of Import's error when the file has bad lines
// (errors.Is works; ErrorCode is EINVALID).
var ErrBadLines = &Error{Code: EINVALID, Message: "the file has bad lines"}

// Import reads a neutral file (plain or gzipped) from src into s in one
// transaction: either every record is stored, or, if any line is bad or
// anything fails, none is. Every line is checked even after the first bad
// one, so one run lists all the problems (the first MaxListed of them in
// ImportResult.Bad, with their line numbers). Records already stored are
// skipped, so importing a file twice adds nothing the second time.
//
// The result is meaningful even with an error. The error wraps
// ErrBadLines when the file has bad lines.
func Import(ctx context.Context, s Store, src io.Reader, h *callerid.Hasher, opts ImportOptions) (res ImportResult, err error) {
	if h == nil {
		return res, errors.New("cdr: Import needs a callerid.Hasher")
	}
	if opts.MaxListed <= 0 {
		opts.MaxListed = DefaultMaxListed
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	lines, err := newLineSource(src)
	if err != nil {
		return res, err
	}
	defer lines.close()

	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }() // stop the goroutines, then wait for them

	// reader → raw (in order, numbered) → workers → decoded → reorder → store
	raw := make(chan *batch, opts.Workers)
	decoded := make(chan *batch, opts.Workers)
	readErr := make(chan error, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(raw)
		readErr <- readBatches(ctx, lines, raw)
	}()
	var workers sync.WaitGroup
	for range opts.Workers {
		workers.Add(1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer workers.Done()
			for b := range raw {
				if ctx.Err() != nil {
					return
				}
				b.decode(h, opts.AllowUnknownKeys)
				select {
				case decoded <- b:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	go func() { workers.Wait(); close(decoded) }()

	tx, err := s.Begin(ctx)
	if err != nil {
		return res, fmt.Errorf("cdr: import: %w", err)
	}
	defer tx.Rollback()

	pending := map[int]*batch{}
	next := 0
	for b := range decoded {
		pending[b.seq] = b
		for b := pending[next]; b != nil; b = pending[next] {
			delete(pending, next)
			next++
			if err := res.apply(ctx, tx, b, opts); err != nil {
				return res, err
			}
			if opts.Progress != nil {
				opts.Progress(res)
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return res, err
	}
	if err := <-readErr; err != nil {
		return res, err
	}
	if res.BadLines > 0 {
		res.Inserted = 0
		return res, fmt.Errorf("cdr: %s of %d; nothing imported: %w", plural(res.BadLines, "bad line"), res.Lines, ErrBadLines)
	}
	if err := tx.Commit(); err != nil {
		res.Inserted = 0
		return res, fmt.Errorf("cdr: import: %w", err)
	}
	return res, nil
}

// BatchInserter is a Tx that can insert many records in one round trip
// (cdr/postgres: one multi-row INSERT instead of one a record). Import uses
// it when the store's Tx offers it, since it needs only the count of new
// records, not which ones were new.
type BatchInserter interface {
	// InsertBatch adds every record of recs whose ID is not stored yet
	// (nor earlier in recs or in this Tx) and returns how many were new.
	// If a record fails Record.CheckStorable it returns EINVALID and
	// inserts nothing; the Tx stays usable.
	InsertBatch(ctx context.Context, recs []Record) (inserted int, err error)
}

// apply stores the good records of b, unless a bad line was seen already
// (then the transaction will be rolled back and writing is wasted work),
// and tallies b. With a BatchInserter the batch's records go in one call.
func (res *ImportResult) apply(ctx context.Context, tx Tx, b *batch, opts ImportOptions) error {
	bi, batched := tx.(BatchInserter)
	var good []Record
	var goodLines []int
	for i := range b.items {
		it := &b.items[i]
		res.Lines = it.line
		if it.blank {
			continue
		}
		if it.err != nil {
			res.BadLines++
			if len(res.Bad) < opts.MaxListed {
				res.Bad = append(res.Bad, it.err)
			}
			continue
		}
		if len(it.unknown) > 0 && opts.OnUnknownKeys != nil {
			opts.OnUnknownKeys(it.line, it.unknown)
		}
		res.Records++
		if it.rec.Service == "" {
			it.rec.Service = opts.Service
		}
		if res.BadLines > 0 {
			continue
		}
		if batched {
			good, goodLines = append(good, it.rec), append(goodLines, it.line)
			continue
		}
		ok, err := tx.Insert(ctx, it.rec)
		if err != nil {
			return fmt.Errorf("cdr: import line %d: %w", it.line, err)
		}
		if ok {
			res.Inserted++
		} else {
			res.Duplicates++
		}
	}
	if b.last > res.Lines {
		res.Lines = b.last
	}
	if len(good) == 0 || res.BadLines > 0 {
		return nil
	}
	n, err := bi.InsertBatch(ctx, good)
	switch {
	case ErrorCode(err) == EINVALID:
		// The store refused a record that passed Validate: insert one by
		// one (nothing of the batch was inserted) to name its line.
		for i, r := range good {
			ok, err := tx.Insert(ctx, r)
			if err != nil {
				return fmt.Errorf("cdr: import line %d: %w", goodLines[i], err)
			}
			if ok {
				res.Inserted++
			} else {
				res.Duplicates++
			}
		}
		return nil
	case err != nil:
		return fmt.Errorf("cdr: import lines %d-%d: %w", goodLines[0], goodLines[len(goodLines)-1], err)
	}
	res.Inserted += n
	res.Duplicates += len(good) - n
	return nil
}

// batch is a run of consecutive lines, decoded by one worker.
type batch struct {
	seq   int
	buf   []byte // the lines' bytes, back to back
	items []item
	last  int // number of the last line read into the batch
}

type item struct {
	line       int
	start, end int // the line in batch.buf
	blank      bool
	rec        Record
	unknown    []string
	err        *LineError
}

func (b *batch) decode(h *callerid.Hasher, allowUnknown bool) {
	for i := range b.items {
		it := &b.items[i]
		if it.blank || it.err != nil {
			continue
		}
		rec, unknown, err := decodeNeutral(b.buf[it.start:it.end], h, allowUnknown)
		if err != nil {
			it.err = &LineError{Line: it.line, Err: err}
			continue
		}
		it.rec, it.unknown = rec, unknown
	}
	b.buf = nil // the raw numbers in it are no longer needed
}

// readBatches cuts the input into batches. A *LineError from the source
// (an over-long line) travels in its item; any other error ends reading.
func readBatches(ctx context.Context, src *lineSource, out chan<- *batch) error {
	seq := 0
	b := &batch{seq: seq}
	send := func() bool {
		if ctx.Err() != nil {
			return false
		}
		select {
		case out <- b:
			seq++
			b = &batch{seq: seq}
			return true
		case <-ctx.Done():
			return false
		}
	}
	for {
		line, err := src.next()
		var le *LineError
		switch {
		case err == io.EOF:
			b.last = src.line
			if !send() {
				return ctx.Err()
			}
			return nil
		case errors.As(err, &le):
			b.items = append(b.items, item{line: le.Line, err: le})
		case err != nil:
			return err
		case line == nil:
			b.items = append(b.items, item{line: src.line, blank: true})
		default:
			start := len(b.buf)
			b.buf = append(b.buf, line...)
			b.items = append(b.items, item{line: src.line, start: start, end: len(b.buf)})
		}
		if len(b.items) >= importBatch {
			b.last = src.line
			if !send() {
				return ctx.Err()
			}
		}
	}
}

// plural is "1 bad line", "2 bad lines".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
