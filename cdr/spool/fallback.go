package spool

import (
	"context"
	"errors"
	"fmt"

	"github.com/rs/zerolog"

	"github.com/helpline-it/helpline/cdr"
)

// Fallback is a cdr.Writer that writes to Store and, when the store
// refuses a record for any reason but the record itself (a full or
// read-only disk, a database that is down), to Spool, with a loud error.
// Write returns nil only when the record is durable in one of the two.
// It suits writers that have no retry of their own (the operator side's
// outbound records); the call flow retries first and uses the Spool
// directly (ivr.Deps.Spool).
type Fallback struct {
	Store  cdr.Writer
	Spool  *Spool
	Logger zerolog.Logger
}

// Write stores r, or spools it if the store fails.
func (f Fallback) Write(ctx context.Context, r cdr.Record) error {
	err := f.Store.Write(ctx, r)
	if err == nil {
		return nil
	}
	if cdr.ErrorCode(err) == cdr.EINVALID {
		return err // the spool would refuse it too; the caller logs it
	}
	if serr := f.Spool.Write(ctx, r); serr != nil {
		err = errors.Join(fmt.Errorf("cdr store: %w", err), serr)
		f.Logger.Error().Err(err).Interface("cdr", r).
			Msg("CDR LOST FROM STORE AND SPOOL: full record follows, re-import it")
		return err
	}
	f.Logger.Error().Err(err).Str("record", r.ID).Str("spool", f.Spool.Dir()).
		Msg("CDR write failed: the store refused the record; it is SPOOLED on disk and will be replayed into the store")
	return nil
}
