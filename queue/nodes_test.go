package queue_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

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

func TestHostLoginsRecordsTheHost(t *testing.T) {
	ctx := context.Background()
	m, err := queue.NewMemory("svc")
	if err != nil {
		t.Fatal(err)
	}
	var failed []string
	q := queue.HostLogins(m, m, "node2", func(id string, err error) { failed = append(failed, id) })
	if err := q.Login(ctx, queue.Operator{ID: "op1", Endpoint: "PJSIP/op1", Skills: []string{"it"}}, time.Unix(100, 0)); err != nil {
		t.Fatal(err)
	}
	if h, _ := m.HostOf(ctx, "op1"); h != "node2" {
		t.Errorf("host %q, want node2", h)
	}
	if op, _ := m.Operator(ctx, "op1"); op.State != queue.Available {
		t.Errorf("op1 %+v", op)
	}
	// An invalid operator ID: Host refuses, the error is reported, Login refuses too.
	if err := q.Login(ctx, queue.Operator{ID: "", Skills: []string{"it"}}, time.Unix(100, 0)); err == nil || len(failed) != 1 {
		t.Errorf("login of an empty id: %v, onErr calls %v", err, failed)
	}
}
