package queue

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
)

// fakeRedisErr is a reply error as go-redis hands it over: any type with
// the RedisError marker method.
type fakeRedisErr string

func (e fakeRedisErr) Error() string { return string(e) }
func (fakeRedisErr) RedisError()     {}

func TestClassify(t *testing.T) {
	tests := []struct {
		name        string
		err         error
		want        error // sentinel expected in the chain, or nil
		unavailable bool
	}{
		{"script code", fakeRedisErr("ERR OFFER_LOST"), ErrOfferLost, false},
		{"script code without ERR", fakeRedisErr("UNKNOWN_CALL"), ErrUnknownCall, false},
		{"unknown operator", fakeRedisErr("ERR UNKNOWN_OPERATOR"), ErrUnknownOperator, false},
		{"bad state", fakeRedisErr("ERR BAD_STATE busy"), ErrBadState, false},
		{"wrong type is a refusal", fakeRedisErr("WRONGTYPE Operation against a key holding the wrong kind of value"), nil, false},
		{"auth is a refusal", fakeRedisErr("NOAUTH Authentication required."), nil, false},
		{"loading", fakeRedisErr("LOADING Redis is loading the dataset in memory"), ErrUnavailable, true},
		{"read-only replica", fakeRedisErr("READONLY You can't write against a read only replica."), ErrUnavailable, true},
		{"out of memory", fakeRedisErr("OOM command not allowed when used memory > 'maxmemory'."), ErrUnavailable, true},
		{"connection refused", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}, ErrUnavailable, true},
		{"eof", io.EOF, ErrUnavailable, true},
		{"deadline", context.DeadlineExceeded, ErrUnavailable, true},
		{"caller cancelled", context.Canceled, context.Canceled, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := classify("op", tc.err)
			if tc.want != nil && !errors.Is(got, tc.want) {
				t.Fatalf("classify(%v) = %v; want it to wrap %v", tc.err, got, tc.want)
			}
			if IsUnavailable(got) != tc.unavailable {
				t.Fatalf("IsUnavailable(%v) = %v; want %v", got, !tc.unavailable, tc.unavailable)
			}
			if !errors.Is(got, tc.err) && tc.want == ErrUnavailable {
				t.Fatalf("classify(%v) = %v lost the cause", tc.err, got)
			}
		})
	}
}
