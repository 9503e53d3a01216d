//go:build linux

package demo

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// socketsVisible says whether Activity can see bytes waiting in sockets.
const socketsVisible = true

// pending is how many bytes wait in the socket's receive buffer: data the
// peer wrote that nobody has read yet (SIOCINQ, alias FIONREAD).
func pending(c syscall.Conn) int {
	raw, err := c.SyscallConn()
	if err != nil {
		return 0
	}
	n := 0
	_ = raw.Control(func(fd uintptr) {
		if v, err := unix.IoctlGetInt(int(fd), unix.SIOCINQ); err == nil {
			n = v
		}
	})
	return n
}
