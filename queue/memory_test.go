package queue_test

import (
	"testing"

	"github.com/helpline-it/helpline/queue"
	"github.com/helpline-it/helpline/queue/queuetest"
)

func TestMemoryContract(t *testing.T) {
	queuetest.RunQueueSuite(t, func(t *testing.T) queue.Queue {
		m, err := queue.NewMemory("svc")
		if err != nil {
			t.Fatal(err)
		}
		return m
	})
}
