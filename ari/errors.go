package ari

import (
	"errors"
	"fmt"
	"net/http"
)

// Sentinels for the HTTP statuses callers branch on. An *Error matches the
// sentinel of its status with errors.Is:
//
//	if errors.Is(err, ari.ErrNotFound) { /* the channel is already gone */ }
var (
	ErrBadRequest         = errors.New("ari: bad request")          // 400
	ErrUnauthorized       = errors.New("ari: unauthorized")         // 401
	ErrForbidden          = errors.New("ari: forbidden")            // 403
	ErrNotFound           = errors.New("ari: not found")            // 404
	ErrMethodNotAllowed   = errors.New("ari: method not allowed")   // 405
	ErrConflict           = errors.New("ari: conflict")             // 409
	ErrPreconditionFailed = errors.New("ari: precondition failed")  // 412, "Channel in invalid state"
	ErrUnprocessable      = errors.New("ari: unprocessable entity") // 422
	ErrServer             = errors.New("ari: server error")         // any 5xx
)

// Error is a refusal by Asterisk: the request reached it and it answered
// with a non-2xx status. Transport failures are *TransportError instead.
type Error struct {
	// Status is the HTTP status code.
	Status int
	// Message is the body's "message" key, or its "error" key (originate's
	// "Allocation failed"), or the start of a non-JSON body.
	Message string
	// Method and Path identify the request; Path is below the ARI root and
	// never carries the query string (it may hold caller numbers).
	Method, Path string
}

func (e *Error) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	return fmt.Sprintf("ari: %s %s: %d %s", e.Method, e.Path, e.Status, msg)
}

// Is reports whether target is the sentinel for e.Status.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrBadRequest:
		return e.Status == http.StatusBadRequest
	case ErrUnauthorized:
		return e.Status == http.StatusUnauthorized
	case ErrForbidden:
		return e.Status == http.StatusForbidden
	case ErrNotFound:
		return e.Status == http.StatusNotFound
	case ErrMethodNotAllowed:
		return e.Status == http.StatusMethodNotAllowed
	case ErrConflict:
		return e.Status == http.StatusConflict
	case ErrPreconditionFailed:
		return e.Status == http.StatusPreconditionFailed
	case ErrUnprocessable:
		return e.Status == http.StatusUnprocessableEntity
	case ErrServer:
		return e.Status >= 500 && e.Status <= 599
	}
	return false
}

// TransportError is a request that got no usable answer from Asterisk:
// connection refused or reset, timeout, cancelled context, or a 2xx body
// that could not be read or decoded. errors.Is(err, context.Canceled) and
// the like see through it.
type TransportError struct {
	Method, Path string
	Err          error
}

func (e *TransportError) Error() string {
	return fmt.Sprintf("ari: %s %s: %v", e.Method, e.Path, e.Err)
}

// Unwrap returns the underlying error.
func (e *TransportError) Unwrap() error { return e.Err }
