package directory

import (
	"errors"
	"fmt"
)

// Sentinel errors callers branch on with errors.Is.
var (
	// ErrNotFound: no entry has that code.
	ErrNotFound = errors.New("directory: no such entry")
	// ErrBadRows: the file has bad rows; the result lists them and nothing
	// was imported.
	ErrBadRows = errors.New("directory: bad rows")
	// ErrCodesExhausted: every four-digit code is taken.
	ErrCodesExhausted = errors.New("directory: no free code left (9000 in use)")
	// ErrUnknownProvince: a province that is none of Italy's.
	ErrUnknownProvince = errors.New("directory: unknown province")
)

// RowError is one problem in one row of a directory file. Line counts the
// file's lines from 1 (the header), as an editor shows them; a quoted
// field spanning lines is reported at its row's first line.
type RowError struct {
	Line int
	// Column is the header's name for the bad field ("phone"), empty when
	// the problem is the whole row (wrong number of fields, a duplicate).
	Column string
	// Err says what is wrong, quoting the bad value.
	Err error
}

// Error reads `column "phone": "abc" is not a phone number`; the caller
// puts "FILE:LINE: " in front.
func (e *RowError) Error() string {
	if e.Column == "" {
		return e.Err.Error()
	}
	return fmt.Sprintf("column %q: %v", e.Column, e.Err)
}

// Unwrap returns the problem.
func (e *RowError) Unwrap() error { return e.Err }
