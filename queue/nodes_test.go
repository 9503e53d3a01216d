package queue_test

import (
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/helpline-it/helpline/internal/testenv"
	"github.com/helpline-it/helpline/queue"
	"github.com/helpline-it/helpline/queue/queuetest"
)

func TestMemoryNodesContract(t *testing.T) {
	queuetest.RunNodesSuite(t, func(t *testing.T) queuetest.NodesStore {
		m, err := queue.NewMemory("svc")
		if err != nil {
			t.Fatal(err)
		}
		return m
	})
}

func TestRedisNodesContract(t *testing.T) {
	srv := testenv.StartRedis(t)
	client := srv.Client(t)
	var n atomic.Int64
	queuetest.RunNodesSuite(t, func(t *testing.T) queuetest.NodesStore {
		return newRedis(t, client, fmt.Sprintf("n%d", n.Add(1)))
	})
}

func TestDecodeOfferRejectsGarbage(t *testing.T) {
	for _, in := range []string{``, `{`, `{}`, `{"call":"c","op":"o"}`, `{"call":"c","exp":5}`, `[1]`} {
		if _, err := queue.DecodeOffer([]byte(in)); err == nil {
			t.Errorf("DecodeOffer(%q) accepted", in)
		}
	}
}
