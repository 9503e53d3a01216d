package blacklist

import (
	"context"
	"errors"
	"io"
	"testing"
)

type fakeRedisErr string

func (e fakeRedisErr) Error() string { return string(e) }
func (fakeRedisErr) RedisError()     {}

func TestClassify(t *testing.T) {
	tests := []struct {
		err         error
		want        error
		unavailable bool
	}{
		{nil, nil, false},
		{fakeRedisErr("ERR NOT_FOUND"), ErrNotFound, false},
		{fakeRedisErr("WRONGTYPE Operation against a key holding the wrong kind of value"), nil, false},
		{fakeRedisErr("NOPERM this user has no permissions"), nil, false},
		{fakeRedisErr("LOADING Redis is loading the dataset in memory"), ErrUnavailable, true},
		{fakeRedisErr("MASTERDOWN Link with MASTER is down"), ErrUnavailable, true},
		{io.ErrUnexpectedEOF, ErrUnavailable, true},
		{context.DeadlineExceeded, ErrUnavailable, true},
		{context.Canceled, context.Canceled, false},
	}
	for _, tc := range tests {
		got := classify("op", tc.err)
		if tc.err == nil {
			if got != nil {
				t.Errorf("classify(nil) = %v", got)
			}
			continue
		}
		if tc.want != nil && !errors.Is(got, tc.want) {
			t.Errorf("classify(%v) = %v; want it to wrap %v", tc.err, got, tc.want)
		}
		if IsUnavailable(got) != tc.unavailable {
			t.Errorf("IsUnavailable(classify(%v)) = %v; want %v", tc.err, !tc.unavailable, tc.unavailable)
		}
		// Script codes become their sentinel; everything else keeps the
		// go-redis error for the log.
		if tc.want != ErrNotFound && !errors.Is(got, tc.err) {
			t.Errorf("classify(%v) = %v lost the cause", tc.err, got)
		}
	}
}

func TestPolicyValidate(t *testing.T) {
	bad := []Policy{
		{Threshold: 0, Window: 1e9, Block: 1e9},
		{Threshold: 1, Window: 0, Block: 1e9},
		{Threshold: 1, Window: 1e9, Block: -1},
	}
	for _, p := range bad {
		if err := p.Validate(); !errors.Is(err, ErrInvalid) {
			t.Errorf("Policy%+v.Validate() = %v; want ErrInvalid", p, err)
		}
		if _, err := NewMemory(p); err == nil {
			t.Errorf("NewMemory(%+v) accepted a bad policy", p)
		}
	}
	if err := (Policy{Threshold: 3, Window: 1e9, Block: 1e9}).Validate(); err != nil {
		t.Errorf("good policy refused: %v", err)
	}
}
