package demo

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/jonboulle/clockwork"

	"github.com/helpline-it/helpline/ari/aritest"
)

// EmbeddedOptions say what the embedded world holds.
type EmbeddedOptions struct {
	// Clock runs the emulated Asterisk (the simulation's fake clock).
	Clock clockwork.Clock
	// Operators get one softphone each (see Endpoints).
	Operators []Operator
	// Sounds are prompt lengths by name or media URI; others play for
	// DefaultSoundLength (default 3 s).
	Sounds             map[string]time.Duration
	DefaultSoundLength time.Duration
	// DBPath is the call-record database to write; empty: a file in a
	// temporary directory, removed by Close.
	DBPath string
}

// Embedded is everything a switchboard needs around it, in process and
// throwaway: a Redis (miniredis) for the queue and the blacklist, an
// emulated Asterisk with the PSTN trunk and the operators' softphones, a
// working directory for the call records, recordings and spool, and a
// fresh HMAC key. Nothing in it survives Close except a DBPath the caller
// named.
type Embedded struct {
	Redis    *miniredis.Miniredis
	Asterisk *aritest.Server
	// Dir is the temporary working directory.
	Dir string
	// DBPath is the SQLite call-record file.
	DBPath string
	// HMACKey is a random key made for this run only: the records it
	// hashes cannot be linked to any other run's.
	HMACKey string
}

// StartEmbedded starts the embedded world. Close it when done.
func StartEmbedded(o EmbeddedOptions) (e *Embedded, err error) {
	if o.DefaultSoundLength <= 0 {
		o.DefaultSoundLength = 3 * time.Second
	}
	e = &Embedded{}
	defer func() {
		if err != nil {
			_ = e.Close()
		}
	}()
	if e.Dir, err = os.MkdirTemp("", "helpline-demo-"); err != nil {
		return nil, fmt.Errorf("demo: working directory: %w", err)
	}
	e.DBPath = o.DBPath
	if e.DBPath == "" {
		e.DBPath = filepath.Join(e.Dir, "cdr.db")
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("demo: HMAC key: %w", err)
	}
	e.HMACKey = hex.EncodeToString(key)

	e.Redis = miniredis.NewMiniRedis()
	if err := e.Redis.StartAddr("127.0.0.1:0"); err != nil {
		return nil, fmt.Errorf("demo: embedded Redis: %w", err)
	}
	e.Asterisk = aritest.NewUnstartedServer(aritest.Config{
		Clock:              o.Clock,
		Endpoints:          Endpoints(o.Operators),
		Sounds:             o.Sounds,
		DefaultSoundLength: o.DefaultSoundLength,
	})
	if err := e.Asterisk.Start(); err != nil {
		e.Asterisk = nil
		return nil, fmt.Errorf("demo: emulated Asterisk: %w", err)
	}
	return e, nil
}

// RedisAddr is the embedded Redis's host:port.
func (e *Embedded) RedisAddr() string { return e.Redis.Addr() }

// Path is a path inside the working directory.
func (e *Embedded) Path(name string) string { return filepath.Join(e.Dir, name) }

// Close stops the servers and removes the working directory (a DBPath
// outside it stays).
func (e *Embedded) Close() error {
	if e.Asterisk != nil {
		e.Asterisk.Close()
	}
	if e.Redis != nil {
		e.Redis.Close()
	}
	var err error
	if e.Dir != "" {
		err = os.RemoveAll(e.Dir)
	}
	return err
}
