package config

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
)

// Error is one problem found in a configuration file. Its text is a single
// line in the form editors and CI logs understand:
//
//	config.yaml:14: languages.fr.hours[0].from: "25:00" is not a time of day
type Error struct {
	// File is the name of the file as given to Load or Parse.
	File string
	// Line is the 1-based line the problem is on; 0 when the problem
	// concerns the file as a whole (a required key that is missing).
	Line int
	// Path is the dotted key path, with list indexes in brackets
	// (languages.fr.hours[0].from); empty for syntax errors.
	Path string
	// Msg says what is wrong and, where possible, how to fix it.
	Msg string
}

// Error formats the problem as file:line: path: message.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found in one file, in line order. Parse and Load
// return it (as error) so that an administrator fixes all problems in one
// round instead of one per restart. Use errors.As to get at the items.
type Errors []*Error

// Error joins the items, one per line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap exposes the items to errors.Is and errors.As.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// maxErrors caps how many problems one file reports: a file that is not a
// helpline configuration at all (or hostile input) must not produce a
// million-line answer.
const maxErrors = 100

// sorted orders the problems by line, keeping the order they were found in
// for problems on the same line, puts the problems of the file as a whole
// (missing keys, line 0) last, and caps their number.
func (es Errors) sorted() Errors {
	out := slices.Clone(es)
	key := func(e *Error) int {
		if e.Line == 0 {
			return math.MaxInt
		}
		return e.Line
	}
	slices.SortStableFunc(out, func(a, b *Error) int { return cmp.Compare(key(a), key(b)) })
	if len(out) > maxErrors {
		extra := len(out) - maxErrors
		out = append(out[:maxErrors], &Error{File: out[0].File, Msg: fmt.Sprintf("%d more problems not shown; fix the ones above first", extra)})
	}
	return out
}
