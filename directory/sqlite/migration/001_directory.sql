-- The anti-violence network's directory (directory.Entry), one row per
-- service, keyed by its four-digit dialable code. It lives in the same
-- file as the call records by default, with its own migrations table
-- (directory_migrations), so that cdr/sqlite and this package each apply
-- only their own migrations.
--
-- STRICT refuses values of the wrong type; the CHECKs repeat the rules of
-- directory.Entry.Check so that SQL bypassing the package cannot store a
-- shelter that is not confidential.
CREATE TABLE directory_entry (
	code         TEXT    NOT NULL PRIMARY KEY CHECK (length(code) = 4 AND code GLOB '[1-9][0-9][0-9][0-9]'),
	name         TEXT    NOT NULL CHECK (name <> ''),
	type         TEXT    NOT NULL CHECK (type IN ('cav', 'shelter', 'police', 'carabinieri', 'health', 'legal', 'social', 'other')),
	region       TEXT    NOT NULL,
	province     TEXT    NOT NULL CHECK (length(province) = 2),
	municipality TEXT    NOT NULL DEFAULT '',
	address      TEXT    NOT NULL DEFAULT '',
	phone        TEXT    NOT NULL,
	dial         TEXT    NOT NULL CHECK (dial <> '' AND dial NOT GLOB '*[^0-9]*'),
	hours        TEXT    NOT NULL DEFAULT '',
	notes        TEXT    NOT NULL DEFAULT '',
	confidential INTEGER NOT NULL CHECK (confidential IN (0, 1)),
	updated_at   INTEGER NOT NULL,
	CHECK (type <> 'shelter' OR confidential = 1)
) STRICT;

CREATE INDEX directory_entry_province ON directory_entry (province);
