// Kernel receive timestamps: when a reply reached this host, not when the
// client's goroutine got round to reading it.

package main

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// stampedConn reads a TCP connection with recvmsg and keeps the kernel's
// receive time (SO_TIMESTAMPNS) of the data the last read returned.
//
// Why: the load client is one process on the machine it loads. With
// hundreds of sessions busy, a session's goroutine may wait a long time
// for a CPU after its reply has arrived (at 500 sessions the client's own
// scheduling latency reached 400 ms at p99 against a fast server, 0.1 ms at
// p50 against a slow one whose sessions sat waiting for a greeting). Timed
// from the read, that wait counted as the server's.
type stampedConn struct {
	*net.TCPConn
	raw  syscall.RawConn
	oob  []byte
	last time.Time // receive time of the data the last Read returned
}

func newStampedConn(nc net.Conn) (*stampedConn, error) {
	tc, ok := nc.(*net.TCPConn)
	if !ok {
		return nil, fmt.Errorf("%s: not a TCP connection", nc.RemoteAddr())
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return nil, err
	}
	var serr error
	if err := raw.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1)
	}); err != nil {
		return nil, err
	}
	if serr != nil {
		return nil, fmt.Errorf("setsockopt SO_TIMESTAMPNS: %w", serr)
	}
	return &stampedConn{TCPConn: tc, raw: raw, oob: make([]byte, unix.CmsgSpace(16))}, nil
}

// Read reads as the connection's Read does (its deadline applies) and
// notes the receive time of what it returns.
func (c *stampedConn) Read(p []byte) (int, error) {
	var n, oobn int
	var rerr error
	err := c.raw.Read(func(fd uintptr) bool {
		n, oobn, _, _, rerr = unix.Recvmsg(int(fd), p, c.oob, 0)
		return rerr != unix.EAGAIN
	})
	if err == nil {
		err = rerr
	}
	if err != nil {
		return 0, err
	}
	if n == 0 && len(p) > 0 {
		return 0, io.EOF
	}
	c.last = time.Now()
	if msgs, perr := unix.ParseSocketControlMessage(c.oob[:oobn]); perr == nil {
		for _, m := range msgs {
			// A struct timespec of two 64-bit fields (64-bit systems;
			// elsewhere the read time stays).
			if m.Header.Level == unix.SOL_SOCKET && m.Header.Type == unix.SCM_TIMESTAMPNS && len(m.Data) == 16 {
				sec := int64(binary.NativeEndian.Uint64(m.Data[0:8]))
				nsec := int64(binary.NativeEndian.Uint64(m.Data[8:16]))
				c.last = time.Unix(sec, nsec)
			}
		}
	}
	return n, nil
}
