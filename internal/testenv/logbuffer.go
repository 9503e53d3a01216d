package testenv

import (
	"bytes"
	"sync"
)

// LogBuffer is a goroutine-safe sink for a component's logs in a test:
// the switchboard logs from many goroutines while the test reads what was
// written (e.g. to prove a caller's number never reached a log line).
type LogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns everything written so far.
func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
