package liveview

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// ActionKind is a supervisor action on an operator.
type ActionKind string

// Supervisor actions.
const (
	ActionPause   ActionKind = "pause"
	ActionUnpause ActionKind = "unpause"
	ActionLogout  ActionKind = "logout"
)

// AuditEntry is one line of the audit trail. Every action is written
// twice: Phase "requested" before it is attempted (if that line cannot be
// written the action is refused, so nothing is done unrecorded) and
// "done" or "failed" after.
type AuditEntry struct {
	At         time.Time  `json:"at"`
	Supervisor string     `json:"supervisor"`
	Action     ActionKind `json:"action"`
	Operator   string     `json:"operator"`
	// Reason is the pause reason set (ActionPause).
	Reason string `json:"reason,omitempty"`
	// From is the operator's state when the supervisor confirmed.
	From  string `json:"from_state,omitempty"`
	Phase string `json:"phase"`
	Error string `json:"error,omitempty"`
}

// Audit phases.
const (
	PhaseRequested = "requested"
	PhaseDone      = "done"
	PhaseFailed    = "failed"
)

// Auditor records supervisor actions. AuditFile is the implementation the
// CLI uses; a shared store can implement it later.
type Auditor interface {
	Record(ctx context.Context, e AuditEntry) error
}

// AuditFile appends entries to a file as JSON lines, synced to disk one
// by one (actions are rare; losing one in a crash is not acceptable). It
// is safe for concurrent use.
type AuditFile struct {
	mu   sync.Mutex
	f    *os.File
	path string
}

var _ Auditor = (*AuditFile)(nil)

// OpenAuditFile opens (creating it and its directory, mode 0600/0700)
// the audit file at path for appending.
func OpenAuditFile(path string) (*AuditFile, error) {
	if path == "" {
		return nil, errors.New("liveview: audit file: empty path")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("liveview: audit file %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("liveview: audit file: %w", err)
	}
	return &AuditFile{f: f, path: path}, nil
}

// Path is the file's name.
func (a *AuditFile) Path() string { return a.path }

// Record implements Auditor.
func (a *AuditFile) Record(_ context.Context, e AuditEntry) error {
	b, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("liveview: audit: %w", err)
	}
	b = append(b, '\n')
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.f == nil {
		return fmt.Errorf("liveview: audit file %s is closed", a.path)
	}
	if _, err := a.f.Write(b); err != nil {
		return fmt.Errorf("liveview: audit file %s: %w", a.path, err)
	}
	if err := a.f.Sync(); err != nil {
		return fmt.Errorf("liveview: audit file %s: %w", a.path, err)
	}
	return nil
}

// Close closes the file.
func (a *AuditFile) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.f == nil {
		return nil
	}
	err := a.f.Close()
	a.f = nil
	return err
}
