package main

import (
	"context"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	ariapp "github.com/helpline-it/helpline/ari-app"
	"github.com/helpline-it/helpline/blacklist"
	"github.com/helpline-it/helpline/callerid"
	"github.com/helpline-it/helpline/cdr"
	"github.com/helpline-it/helpline/config"
	"github.com/helpline-it/helpline/directory"
	dirsqlite "github.com/helpline-it/helpline/directory/sqlite"
	"github.com/helpline-it/helpline/ivr"
	"github.com/helpline-it/helpline/operator"
	"github.com/helpline-it/helpline/queue"
)

// operatorSide is the operators' half of a node: feature codes dialled
// from the softphones, flags, outbound calls and transfers.
type operatorSide struct {
	handler *operator.Handler
	dir     *dirsqlite.DB
}

// newOperatorSide builds the operator handler for serve. rdb and bl are
// nil on the in-process fallback: the last callers then live in memory
// (flags still work within this process) and flags are refused, exactly as
// the blacklist is skipped for callers. The directory of the network lives
// in the same SQLite file as the call records (directory/doc.go); with a
// PostgreSQL CDR store there is no directory yet, so calls to the network
// and transfers are refused with the operator's error prompt.
func newOperatorSide(ctx context.Context, cfg *config.Config, q queue.Queue, rdb *redis.Client, bl blacklist.Store,
	records cdr.Writer, hasher *callerid.Hasher, d *Deps, log zerolog.Logger, reg prometheus.Registerer) (*operatorSide, error) {
	s := &operatorSide{}
	var last operator.LastCallers = operator.NewMemoryLastCallers()
	if rdb != nil {
		rl, err := operator.NewRedisLastCallers(rdb, redisPrefix(cfg))
		if err != nil {
			return nil, fmt.Errorf("operators: %w", err)
		}
		last = rl
	}
	deps := operator.Deps{
		Queue: q, LastCallers: last, CDR: records, Identifier: hasher,
		Clock: d.Clock, Logger: log, Registerer: reg,
	}
	if bl != nil {
		deps.Blacklist = bl
	}
	if cfg.CDR.Driver == config.DriverSQLite {
		db, err := dirsqlite.Open(ctx, cfg.CDR.Path, dirsqlite.Options{Now: d.Clock.Now, Logger: log})
		if err != nil {
			return nil, fmt.Errorf("directory %s: %w", cfg.CDR.Path, err)
		}
		s.dir = db
		deps.Directory = operator.FromDirectory(directory.New(db))
	}
	h, err := operator.New(operator.FromConfig(cfg), deps)
	if err != nil {
		s.close()
		return nil, fmt.Errorf("operators: %w", err)
	}
	s.handler = h
	return s, nil
}

// ariHandler hands an operator's softphone dialling in to the handler,
// identified by the endpoint Asterisk reports (not the caller ID the phone
// sends, which a phone could spoof).
func (s *operatorSide) ariHandler() ariapp.OperatorHandler {
	return ariapp.OperatorHandlerFunc(func(ctx context.Context, c *ariapp.Call, _ string, _ []string) {
		ep, dialled, err := c.Origin(ctx)
		if err != nil {
			_ = c.Hangup(ctx, ivr.CauseNormal)
			return
		}
		s.handler.HandleDialIn(ctx, c, ep, dialled)
	})
}

func (s *operatorSide) close() {
	if s != nil && s.dir != nil {
		_ = s.dir.Close()
	}
}
