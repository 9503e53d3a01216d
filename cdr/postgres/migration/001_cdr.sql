-- One row per call (cdr.Record), the same semantics as cdr/sqlite's
-- schema.
--
-- Times are timestamptz: PostgreSQL keeps them as microseconds since 2000
-- UTC, exactly cdr.Precision, so [from, to) range scans compare integers
-- and are exact. NULL means the call never reached that step.
--
-- id, direction and service use the "C" collation: ORDER BY arrived_at, id
-- must order ties by bytes, as SQLite's BINARY collation and Go do,
-- whatever locale the database was created with (en_US.UTF-8 would put
-- "B1" between "a1" and "c1", and the two stores would disagree).
--
-- Caller and callee hashes are the 32 bytes of the HMAC (NULL when there
-- is none; the Store speaks hex). A raw phone number is text and cannot be
-- put in a bytea column without an explicit conversion, and the length
-- CHECK refuses anything that is not exactly an HMAC, even from SQL that
-- bypasses this package.
CREATE TABLE cdr (
	id           text COLLATE "C" NOT NULL PRIMARY KEY,
	direction    text COLLATE "C" NOT NULL CHECK (direction IN ('inbound', 'outbound')),
	service      text COLLATE "C" NOT NULL DEFAULT '',
	outcome      text        NOT NULL,
	arrived_at   timestamptz NOT NULL,
	queued_at    timestamptz,
	connected_at timestamptz,
	ended_at     timestamptz,
	language     text        NOT NULL DEFAULT '',
	operator     text        NOT NULL DEFAULT '',
	caller_hash  bytea CHECK (octet_length(caller_hash) = 32),
	withheld     boolean     NOT NULL DEFAULT false,
	callee_hash  bytea CHECK (octet_length(callee_hash) = 32),
	target       text        NOT NULL DEFAULT '',
	hangup_cause bigint      NOT NULL DEFAULT 0,
	hangup_by    text        NOT NULL DEFAULT '',
	voicemail    text        NOT NULL DEFAULT '',
	transfer     text        NOT NULL DEFAULT '',
	fallback     boolean     NOT NULL DEFAULT false,
	note         text        NOT NULL DEFAULT '',
	-- When this store wrote the row (Options.Now), for audits of late
	-- writes; with several nodes, each stamps its own clock.
	written_at   timestamptz NOT NULL
);

-- The report scans a period of all calls, or of one direction, in time
-- order; id breaks ties so the order is total and the index alone
-- satisfies ORDER BY.
CREATE INDEX cdr_arrived_at ON cdr (arrived_at, id);
CREATE INDEX cdr_direction_arrived_at ON cdr (direction, arrived_at, id);
