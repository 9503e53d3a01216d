package redisfault_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/helpline-it/helpline/internal/redisfault"
	"github.com/helpline-it/helpline/internal/testenv"
)

func TestClassifyRealServer(t *testing.T) {
	r := testenv.StartRedis(t)
	c := r.Client(t)
	ctx := context.Background()

	script := redis.NewScript(`return redis.error_reply("UNKNOWN_CALL call-1")`)
	_, err := script.Run(ctx, c, nil).Result()
	if k, code, detail := redisfault.Classify(err); k != redisfault.Refused || code != "UNKNOWN_CALL" || detail != "call-1" {
		t.Fatalf("script error_reply: Classify = %v %q %q; want Refused UNKNOWN_CALL call-1", k, code, detail)
	}

	c.Set(ctx, "s", "x", 0)
	_, err = c.LPush(ctx, "s", "y").Result()
	if k, code, _ := redisfault.Classify(err); k != redisfault.Refused || code != "WRONGTYPE" {
		t.Fatalf("WRONGTYPE: Classify = %v %q; want Refused WRONGTYPE", k, code)
	}

	r.Stop()
	err = c.Ping(ctx).Err()
	if k, _, _ := redisfault.Classify(err); k != redisfault.Unavailable {
		t.Fatalf("dead server (%v): Classify = %v; want Unavailable", err, k)
	}
}

func TestClassifyTable(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want redisfault.Kind
	}{
		{"nil", nil, redisfault.None},
		{"canceled", fmt.Errorf("op: %w", context.Canceled), redisfault.Canceled},
		{"deadline", context.DeadlineExceeded, redisfault.Unavailable},
		{"net", &net.OpError{Op: "dial", Err: errors.New("connection refused")}, redisfault.Unavailable},
		{"closed", redis.ErrClosed, redisfault.Unavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if k, _, _ := redisfault.Classify(tt.err); k != tt.want {
				t.Fatalf("Classify(%v) = %v; want %v", tt.err, k, tt.want)
			}
		})
	}
}
