// Package sqlite is the embedded cdr.Store: one file, no server, the
// default for a single switchboard. It uses modernc.org/sqlite, a pure-Go
// SQLite, so the binary stays static and cross-compiles.
//
// # Durability
//
// A call's record must be on disk before Write returns, because the caller
// is gone by then and a record lost in a crash is a call the report never
// sees. The database runs in WAL mode with synchronous=FULL: every commit
// fsyncs the write-ahead log. synchronous=NORMAL would be faster but, in
// WAL mode, a commit acknowledged just before a power cut or kernel panic
// can be rolled back on restart; at a helpline's rate (a few calls a
// minute) the fsync costs nothing worth that risk. A bulk import is one
// transaction, so it pays for one fsync, not one per record.
//
// # Concurrency
//
// SQLite has one writer at a time. Writers in this process queue on an
// in-process semaphore that honours their context, so a live call's Write
// waits its turn behind an import instead of failing with SQLITE_BUSY;
// busy_timeout covers only other processes (a `helpline cdr import` run
// beside `helpline serve`). Write transactions start with BEGIN IMMEDIATE
// so two writers never deadlock upgrading a read lock. WAL lets reports
// read while calls are written.
//
// # Layout
//
// Migrations are SQL files embedded from migration/, applied in name
// order, each in its own transaction and recorded in the migrations table;
// a database that has migrations this binary does not know (written by a
// newer helpline) is refused rather than written to. Times are unix
// microseconds, the precision every cdr.Store keeps, so range scans are
// exact integer comparisons on an index. Caller and callee hashes are
// stored as their 32 bytes in STRICT BLOB columns with a length CHECK: a
// raw number, which is text, cannot be stored there even by SQL that
// bypasses this package.
//
// # Import speed
//
// A bulk import (cdr.Import) runs in one transaction through one prepared
// statement, so its cost is SQLite's b-tree work (the table and three
// indexes) plus modernc's parameter binding; see BENCHMARKS.md for the
// figures and how they split between hashing and storing.
package sqlite
