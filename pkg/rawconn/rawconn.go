// Package rawconn runs system calls on the descriptor beneath a
// connection, for the few things package net does not offer: reading
// what is already there without waiting, asking how much is queued.
package rawconn

import "syscall"

// Control runs f on conn's descriptor, while the descriptor is kept
// open, and reports whether it ran: false when conn has no descriptor of
// its own (a TLS connection, an in-memory pipe) or is closed.
func Control(conn any, f func(fd int)) bool {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return false
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	return raw.Control(func(fd uintptr) { f(int(fd)) }) == nil
}
