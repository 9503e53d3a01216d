package directory

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// DefaultMaxListed is how many problems an ImportResult lists by default;
// the rest are only counted.
const DefaultMaxListed = 50

// ImportOptions tunes Import. The zero value imports, lists up to
// DefaultMaxListed problems and keeps entries missing from the file.
type ImportOptions struct {
	// Prune deletes the stored entries whose code the file does not have
	// (the file is the whole directory). Without it they are kept and
	// counted in Missing, and their codes stay theirs.
	Prune bool
	// DryRun checks the file and computes the counts against the store,
	// then changes nothing.
	DryRun bool
	// MaxListed caps ImportResult.Problems; DefaultMaxListed if zero.
	MaxListed int
}

// ImportResult says what Import did, or would have done.
type ImportResult struct {
	// Rows is the number of non-blank rows read.
	Rows int
	// Problems lists the first MaxListed problems, in file order.
	Problems []*RowError
	// ProblemCount counts all problems; BadRows the rows with any.
	ProblemCount, BadRows int
	// Inserted, Updated and Unchanged count the file's rows by what
	// happened to their code.
	Inserted, Updated, Unchanged int
	// Missing counts stored entries the file does not have; Pruned how
	// many of them were deleted (all of them with Prune, else 0).
	Missing, Pruned int
	// Entries are the file's rows as stored, with their codes, in file
	// order.
	Entries []Entry
}

// Import reads a directory file (see Parse) and stores its rows in ONE
// transaction: if any row is bad, it returns the problems with an error
// wrapping ErrBadRows and stores nothing. Rows are matched to stored
// entries by code (written in the file, or given by the code scheme: see
// assignCodes); a stored entry whose data differ is updated.
func Import(ctx context.Context, s Store, r io.Reader, opts ImportOptions) (ImportResult, error) {
	if opts.MaxListed <= 0 {
		opts.MaxListed = DefaultMaxListed
	}
	var res ImportResult
	rows, problems, err := Parse(r)
	if err != nil {
		return res, err
	}
	res.Rows = len(rows)
	if len(problems) > 0 {
		lines := map[int]bool{}
		for _, p := range problems {
			lines[p.Line] = true
		}
		res.BadRows, res.ProblemCount = len(lines), len(problems)
		res.Rows += countNewLines(rows, lines)
		res.Problems = problems[:min(len(problems), opts.MaxListed)]
		return res, fmt.Errorf("%w: %d problems in %d rows; nothing imported", ErrBadRows, len(problems), len(lines))
	}
	errDryRun := errors.New("dry run")
	err = s.Update(ctx, func(ctx context.Context, tx Tx) error {
		existing, err := tx.List(ctx)
		if err != nil {
			return err
		}
		coded, err := assignCodes(rows, existing)
		if err != nil {
			return err
		}
		res.Inserted, res.Updated, res.Unchanged, res.Missing, res.Pruned = 0, 0, 0, 0, 0
		res.Entries = res.Entries[:0]
		byCode := make(map[string]Entry, len(existing))
		for _, e := range existing {
			byCode[e.Code] = e
		}
		inFile := make(map[string]bool, len(coded))
		for _, row := range coded {
			e := row.Entry
			inFile[e.Code] = true
			res.Entries = append(res.Entries, e)
			old, ok := byCode[e.Code]
			switch {
			case !ok:
				res.Inserted++
			case old.Equal(e):
				res.Unchanged++
				continue
			default:
				res.Updated++
			}
			if err := tx.Put(ctx, e); err != nil {
				return fmt.Errorf("line %d: %w", row.Line, err)
			}
		}
		for _, e := range existing {
			if inFile[e.Code] {
				continue
			}
			res.Missing++
			if opts.Prune {
				if err := tx.Delete(ctx, e.Code); err != nil {
					return err
				}
				res.Pruned++
			}
		}
		if opts.DryRun {
			return errDryRun
		}
		return nil
	})
	if err != nil && !errors.Is(err, errDryRun) {
		return res, fmt.Errorf("directory: import: %w", err)
	}
	return res, nil
}

// countNewLines counts the bad rows that are not among the good ones
// (bad lines reported at line 1 are the header's).
func countNewLines(rows []Row, bad map[int]bool) int {
	n := 0
	good := map[int]bool{}
	for _, r := range rows {
		good[r.Line] = true
	}
	for l := range bad {
		if l > 1 && !good[l] {
			n++
		}
	}
	return n
}
