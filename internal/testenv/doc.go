// Package testenv starts the real servers that integration tests need —
// redis-server from Debian's packages, the aritest Asterisk emulator — and
// stops them when the test ends.
//
// It is the one place such helpers live: every package's tests call
// testenv.StartRedis(t) rather than copying a launcher, so a fix to how we
// pick ports or wait for readiness reaches every suite at once. Each helper
// registers its cleanup with t.Cleanup and fails the test (never skips it)
// when the server cannot be started, naming what to install.
package testenv
