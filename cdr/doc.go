// Package cdr keeps one record per call: the only source of the quarterly
// report's telephony figures, so a call that is not here did not happen.
//
// The root package holds the domain (Record, Outcome, Filter), the Store
// contract every engine implements, and the neutral file format used to
// import call records from elsewhere and to export them. Engines live in
// sub-packages (cdr/sqlite, cdr/memory, cdr/postgres; cdr/engine opens the
// configured one) and all pass the one contract suite in cdr/cdrtest, so
// the report cannot tell them apart. Records a store refuses wait in
// cdr/spool, on local disk, until it takes them again. Nothing here knows
// about telephony engines.
//
// # Two levels of checking
//
// Stores refuse only what they cannot file or what could leak a number
// (Record.CheckStorable): a record written at the end of a live call must
// not be lost because, say, a clock step put ended_at a millisecond before
// connected_at. Files are different: they can be fixed and imported again,
// so the importer applies every rule (Record.Validate) and imports nothing
// until every line passes.
//
// # The neutral format
//
// JSON Lines, one call a line, as described in the data directory's
// README: id, direction, arrived_at, outcome, caller, withheld, language,
// queued_at, connected_at, ended_at, operator, callee. Times are RFC 3339
// (any offset; they are kept in UTC). The raw numbers in caller and callee
// are replaced by their keyed HMAC (package callerid) as soon as a line is
// decoded; they go no further. A caller that is empty, withheld: true, or
// an anonymous caller ID ("anonymous", "private", …) makes the call
// Withheld, with no hash.
//
// Besides those keys a line may carry service, target, hangup_cause,
// hangup_by, voicemail, transfer, fallback and note (the other Record
// fields), and, in place of caller and callee, caller_hash and
// callee_hash: 64 lowercase hex digits.
//
// Any other key is an error by default (NeutralOptions.AllowUnknownKeys
// relaxes it): an unknown key is most often a misspelt known one, and
// importing without it would silently lose a time or an operator.
//
// # Importing
//
// Import loads a whole file in one Store transaction: a file with a bad
// line anywhere imports nothing, so a fixed file can simply be imported
// again, and an import can never leave half a quarter behind to be
// double-counted or missed by the report (a store whose Tx offers
// BatchInserter, such as PostgreSQL, gets each batch in one round trip).
// Every line is still decoded and
// checked after the first bad one, so one run lists every problem with its
// line number. Lines are decoded by parallel workers (turning a number
// into its hash means parsing it as a phone number first, which is most of
// the work) and stored in file order, so when an id repeats, the first
// line wins.
//
// # The export shape
//
// NeutralWriter writes the same format with hashes in place of numbers, so
// an export never contains a number and can be imported back as it is:
//
//	{"id":"in-1","direction":"inbound","arrived_at":"2025-06-01T08:00:00Z","outcome":"answered",
//	 "caller_hash":"5f0c…(64 hex)","language":"it","queued_at":"2025-06-01T08:00:20Z",
//	 "connected_at":"2025-06-01T08:00:41Z","ended_at":"2025-06-01T08:06:00Z","operator":"op1001"}
//	{"id":"out-7","direction":"outbound","arrived_at":"…","outcome":"busy","ended_at":"…",
//	 "operator":"op1001","callee_hash":"9a2e…"}
//
// Empty fields are left out; withheld appears only when true; times are
// UTC with as many fractional digits as needed (stores keep microseconds).
// Hashes are only meaningful under the HMAC key that made them: importing
// an export into a deployment with another key gives callers identities
// that match nobody there.
package cdr
