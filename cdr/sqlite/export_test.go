package sqlite

import "database/sql"

// SQL exposes the connection pool to this package's tests, which check
// pragmas, the schema and query plans.
func (db *DB) SQL() *sql.DB { return db.db }
