// Package engine opens the call-record store that the configuration
// names (cdr.driver: sqlite with cdr.path, or postgres with cdr.dsn and
// its password from cdr.password_env/_file), so that every command —
// serve, report, cdr import/export, queue — opens the same store the same
// way, and a new engine is wired in one place rather than in each.
//
// It is the only package that knows every engine; the engines know
// nothing of the configuration, and the rest of helpline sees a cdr.Store.
package engine
