// The endpoint a daemon serves: fd 3 from master, or its own in stand-alone mode (-S -L).

package daemon

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"strings"
	"syscall"
)

// endpoint is the socket requests arrive on and its master.cf type: a
// listener for inet and unix services, a packet socket for unix-dgram ones.
type endpoint struct {
	stream    net.Listener
	packet    net.PacketConn
	transport string
}

// openEndpoint returns the daemon's endpoint. Stream and trigger servers
// serve inet and unix services, datagram servers unix-dgram ones; fifo and
// pass services are not supported.
func openEndpoint(opts *Options, datagram bool) (endpoint, error) {
	if opts.StandAlone {
		return bindStandAlone(opts.Listen, datagram)
	}
	if opts.Transport == "" {
		return endpoint{}, errors.New("no transport type specified")
	}
	wanted := map[bool]map[string]bool{
		false: {"inet": true, "unix": true},
		true:  {"unix-dgram": true},
	}[datagram]
	if !wanted[opts.Transport] {
		return endpoint{}, fmt.Errorf("unsupported transport type: %s", opts.Transport)
	}
	f := os.NewFile(listenerFD, "listener")
	defer f.Close() // the listener holds its own descriptor
	ep := endpoint{transport: opts.Transport}
	var err error
	if datagram {
		ep.packet, err = net.FilePacketConn(f)
	} else {
		ep.stream, err = net.FileListener(f)
	}
	if err != nil {
		return endpoint{}, fmt.Errorf("%s service %s: inherited socket (fd %d): %s", opts.Transport, opts.Service, listenerFD, errText(err))
	}
	return ep, nil
}

// bindStandAlone binds "unix:PATH" or "unix-dgram:PATH" (removing a stale
// socket there), or "inet:HOST:PORT".
func bindStandAlone(spec string, datagram bool) (endpoint, error) {
	scheme, addr, ok := strings.Cut(spec, ":")
	usage := fmt.Errorf("stand-alone mode needs -L unix:PATH or -L inet:HOST:PORT, not %q", spec)
	if datagram {
		usage = fmt.Errorf("stand-alone mode needs -L unix-dgram:PATH, not %q", spec)
	}
	if !ok || addr == "" {
		return endpoint{}, usage
	}
	if scheme == "unix" || scheme == "unix-dgram" {
		if fi, err := os.Lstat(addr); err == nil && fi.Mode().Type() == fs.ModeSocket {
			os.Remove(addr)
		}
	}
	ep := endpoint{transport: scheme}
	var err error
	switch {
	case datagram && scheme == "unix-dgram":
		ep.packet, err = net.ListenPacket("unixgram", addr)
	case !datagram && scheme == "unix":
		ep.stream, err = net.Listen("unix", addr)
	case !datagram && scheme == "inet":
		ep.stream, err = net.Listen("tcp", addr)
	default:
		return endpoint{}, usage
	}
	if err != nil {
		return endpoint{}, fmt.Errorf("bind %s: %s", addr, errText(err))
	}
	return ep, nil
}

// errText words an error as Postfix's %m does: the system's text for an
// errno ("Address already in use"), else the error itself.
func errText(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		msg := errno.Error()
		return strings.ToUpper(msg[:1]) + msg[1:]
	}
	return err.Error()
}
