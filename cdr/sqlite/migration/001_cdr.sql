-- One row per call (cdr.Record). Times are unix microseconds UTC
-- (cdr.Precision): integers make [from, to) range scans exact and let the
-- index compare numbers, not strings. NULL means the call never reached
-- that step.
--
-- Caller and callee hashes are the 32 bytes of the HMAC (NULL when there
-- is none; the Store speaks hex). STRICT makes SQLite refuse a value of the
-- wrong type instead of converting it, so with the length CHECK a raw phone
-- number (text) cannot land in them, even through a hand-written INSERT;
-- and checking a blob's length costs nothing per row, unlike checking 64
-- hex characters.
CREATE TABLE cdr (
	id           TEXT    NOT NULL PRIMARY KEY,
	direction    TEXT    NOT NULL CHECK (direction IN ('inbound', 'outbound')),
	service      TEXT    NOT NULL DEFAULT '',
	outcome      TEXT    NOT NULL,
	arrived_at   INTEGER NOT NULL,
	queued_at    INTEGER,
	connected_at INTEGER,
	ended_at     INTEGER,
	language     TEXT    NOT NULL DEFAULT '',
	operator     TEXT    NOT NULL DEFAULT '',
	caller_hash  BLOB CHECK (caller_hash IS NULL OR length(caller_hash) = 32),
	withheld     INTEGER NOT NULL DEFAULT 0 CHECK (withheld IN (0, 1)),
	callee_hash  BLOB CHECK (callee_hash IS NULL OR length(callee_hash) = 32),
	target       TEXT    NOT NULL DEFAULT '',
	hangup_cause INTEGER NOT NULL DEFAULT 0,
	hangup_by    TEXT    NOT NULL DEFAULT '',
	voicemail    TEXT    NOT NULL DEFAULT '',
	transfer     TEXT    NOT NULL DEFAULT '',
	fallback     INTEGER NOT NULL DEFAULT 0 CHECK (fallback IN (0, 1)),
	note         TEXT    NOT NULL DEFAULT '',
	-- When this store wrote the row (DB.Now), for audits of late writes.
	written_at   INTEGER NOT NULL
) STRICT;

-- The report scans a period of all calls, or of one direction, in time
-- order; id breaks ties so the order is total and the index alone
-- satisfies ORDER BY.
CREATE INDEX cdr_arrived_at ON cdr (arrived_at, id);
CREATE INDEX cdr_direction_arrived_at ON cdr (direction, arrived_at, id);
