//go:build !linux

package demo

import "syscall"

// socketsVisible says whether Activity can see bytes waiting in sockets.
const socketsVisible = false

// pending cannot look into sockets here: frames in flight are found by
// DriverOptions.NetPause alone.
func pending(syscall.Conn) int { return 0 }
