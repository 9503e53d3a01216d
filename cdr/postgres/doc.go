// Package postgres is the cdr.Store for switchboards with more than one
// node. SQLite (cdr/sqlite) is one file on one machine with one writer at a
// time; when two or more helpline nodes take calls behind one number, each
// must write its records where the report reads all of them, and a node's
// failure must not take the records with it. A PostgreSQL server (with its
// own replicas and backups) is that shared, durable place. It passes the
// same contract suite (cdr/cdrtest) as SQLite, and the report built from
// either is the same, byte for byte.
//
// # Durability
//
// A call's record must be durable before Write returns, because the caller
// is gone by then. Each session sets synchronous_commit=on (unless the DSN
// sets it otherwise), so a commit is acknowledged only once the server has
// flushed it to its write-ahead log; a server-wide "off", which a DBA may
// choose for other applications, does not silently apply to call records.
// With a synchronous standby (synchronous_standby_names), "on" also waits
// for the standby, so a record survives the loss of the primary; set
// synchronous_commit=remote_apply in the DSN's options if reports read
// from the standby and must see every acknowledged record.
// fsync is server-wide and cannot be set per session: Open logs a warning
// when it is off.
//
// # Several nodes
//
// Writes are idempotent by ID (INSERT … ON CONFLICT (id) DO NOTHING), so a
// record retried after a lost acknowledgement, or written by two nodes
// that both saw the call end, is stored once. That makes retrying always
// safe, and Write does: when the server ends the session under it (a
// restart, a failover, a killed backend) it drops the pool's connections
// and tries again on a new one. Nodes starting together
// serialise their migrations on a session advisory lock, and each
// migration runs in one transaction with its record in cdr_migrations
// (named apart from other components' tables in a shared database); a
// database migrated by a newer helpline is refused (ECONFLICT), not
// written to.
//
// # Same semantics as SQLite
//
// Times are timestamptz, which holds exactly cdr.Precision (microseconds),
// so range scans are exact. Hashes are 32-byte bytea with a length CHECK:
// there is no column a raw number could be written to. IDs are ordered in
// the "C" collation, byte by byte, as SQLite and Go order them. Two
// differences cannot be avoided: a PostgreSQL text column refuses NUL
// bytes and invalid UTF-8, which SQLite keeps, so in the free-text fields
// (service, language, operator, target, hangup_by, voicemail, transfer,
// note) they are replaced by U+FFFD rather than losing the call; and times
// outside timestamptz's range (4713 BC to 294276 AD) are refused with
// EINVALID.
//
// # Bulk writes and reads
//
// WriteBatch sends multi-row INSERTs (arrays unnested server-side, a few
// thousand rows a statement) in one transaction; COPY into a temporary
// table was measured and is no faster (BENCHMARKS.md): the server's index
// and WAL work dominates either way. Tx.Insert, which must say whether
// each record was new, is one round trip a record, which on a loopback
// connection costs several times the server's work; the Tx therefore also
// has InsertBatch, a multi-row INSERT that returns only the count of new
// records, for importers that look for it. Scan reads through a cursor in a read-only transaction, a
// thousand rows a fetch: memory stays flat for any period, the scan sees
// one snapshot, and a scan stopped early does not drain the rest.
package postgres
