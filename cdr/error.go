package cdr

import (
	"errors"
	"fmt"
)

// Error codes. They say what a caller can do about an error, not where it
// came from: EINVALID means "fix the input", ENOTFOUND "there is nothing
// there", EINTERNAL "retry or page somebody".
const (
	EINVALID  = "invalid"
	ENOTFOUND = "not_found"
	ECONFLICT = "conflict"
	EINTERNAL = "internal"
)

// Error is a cdr error that callers can branch on with ErrorCode. Errors
// from a storage engine (disk full, locked database) are wrapped with %w
// and report EINTERNAL.
type Error struct {
	// Code is machine-readable: one of the E* constants.
	Code string
	// Message is for humans. It never contains a raw phone number.
	Message string
}

// Error returns the message; the code is for programs, not people.
func (e *Error) Error() string { return e.Message }

// Is makes errors.Is(err, ErrInvalid) true for every EINVALID error, so
// code written against the older sentinel keeps working.
func (e *Error) Is(target error) bool {
	return target == ErrInvalid && e.Code == EINVALID
}

// Errorf returns an *Error with code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, "" for a
// nil err, and EINTERNAL for any other error.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message of the first *Error in err's chain, ""
// for nil, and "internal error" for any other error (whose details belong
// in the log, not in front of a user).
func ErrorMessage(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Message
	}
	return "internal error"
}

// LineError is an error in one line of a neutral call-record file. Line
// counts from 1, blank lines included, so it matches what an editor shows.
type LineError struct {
	Line int
	Err  error
}

// Error reads "line 12: missing queued_at".
func (e *LineError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }

// Unwrap returns the error found on the line (an EINVALID *Error).
func (e *LineError) Unwrap() error { return e.Err }
