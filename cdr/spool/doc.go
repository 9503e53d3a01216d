// Package spool keeps the call records the store refuses (a full or
// read-only disk, PostgreSQL down) on local disk until the store takes them
// again: a call that is not in the CDRs did not happen for the report, so
// a store outage must cost a delay, never a record.
//
// # What is acknowledged when
//
// Spool.Write returns nil only after the record's frame has been written
// and fsync'd (and, for a new segment, the directory entry fsync'd too).
// The call flow treats a nil from the store or from the spool as "this
// call's outcome is on disk"; nothing before that point is acknowledged to
// anyone. So a kill -9 or a power cut at any moment leaves every
// acknowledged record either in the store (SQLite WAL with
// synchronous=FULL, or a committed PostgreSQL transaction) or in a
// complete, checksummed spool frame.
//
// # Why fsync per record
//
// Batching fsyncs (group commit) would be faster, but the spool is the
// exception path: it is written only while the store is failing, at a
// helpline's call rate (tens of calls a minute at the busiest), where one
// fsync per record costs nothing that matters. In exchange a record is
// durable when Write returns, with no window and no flusher goroutine to
// reason about. Writes are serialised under one mutex; that is the price.
//
// # Format
//
// One file per segment (00000000000000000007.spool), opened with a
// header line, then frames: a 4-byte magic, the payload length and a
// CRC-32C of length and payload, then the payload (JSON: the record and
// when it was spooled). Records hold hashes, never raw numbers, like the
// store. A segment is closed at DefaultSegmentBytes, at a write error, and
// before each replay pass; a new run always starts a new segment.
//
// Decoding never panics and never gives up on a segment: a torn last frame
// (a crash mid-write; never acknowledged) is ignored with a warning; a
// corrupt frame in the middle is reported at error level with its offset
// and skipped by searching for the next magic that starts an intact frame
// (the magic is invalid UTF-8, so it cannot occur inside a JSON payload),
// and the segment is then kept as .bad for a human instead of deleted.
//
// # Replay
//
// The Replayer writes spooled records into the store at start and then
// periodically, and deletes a segment only once every one of its records
// is stored. Store writes are idempotent by call id, so a crash between
// storing and deleting replays a few records again and duplicates none.
//
// # Refusing to start
//
// Open proves the directory writable (create, write, fsync, remove a probe
// file) and takes an exclusive flock on it, so `helpline serve` refuses to
// start on an unusable spool instead of finding out during a call, and two
// processes never replay and delete each other's segments.
package spool
