//go:build race

package postgres_test

// raceEnabled: the race detector slows modernc's SQLite (C translated to
// Go, every memory access instrumented) about tenfold, so the seed
// comparison uses ten days of the quarter under -race.
const raceEnabled = true
