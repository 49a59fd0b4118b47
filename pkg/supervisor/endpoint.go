// Service endpoints: creating the listeners master hands to daemons, and sending wakeup triggers to them.
package supervisor

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/mastercf"
)

// Modes of the endpoints master creates, as Postfix creates them.
const (
	socketMode = 0o666
	fifoMode   = 0o622
)

// endpoint is one place a service listens on.
type endpoint struct {
	network string // "tcp", "tcp4", "tcp6", "unix", "unixgram" or "fifo"
	address string // host:port, or an absolute path
}

func (ep endpoint) String() string { return ep.network + ":" + ep.address }

// serviceEndpoints returns where e listens.
func serviceEndpoints(e *mastercf.Entry, s Settings) ([]endpoint, error) {
	path := s.QueueDir + "/" + e.SocketPath()
	switch e.Type {
	case mastercf.TypeInet:
		return inetEndpoints(e, s.InetInterfaces, s.InetProtocols)
	case mastercf.TypeUnix, mastercf.TypePass:
		return []endpoint{{network: "unix", address: path}}, nil
	case mastercf.TypeUnixDgram:
		return []endpoint{{network: "unixgram", address: path}}, nil
	case mastercf.TypeFIFO:
		return []endpoint{{network: "fifo", address: path}}, nil
	}
	return nil, fmt.Errorf("%s: line %d: bad transport type: %s", e.Path, e.Line, e.Type)
}

// open creates the endpoint and returns it as a file to pass to a
// daemon. Unix sockets and fifos replace a stale file of the same name
// and are given to the owner when master runs as root.
func (ep endpoint) open(o Owner) (*os.File, error) {
	switch ep.network {
	case "unix":
		if err := removeStale(ep.address); err != nil {
			return nil, err
		}
		l, err := net.ListenUnix("unix", &net.UnixAddr{Name: ep.address, Net: "unix"})
		if err != nil {
			return nil, bindError(ep, err)
		}
		l.SetUnlinkOnClose(false)
		defer l.Close()
		if err := setOwnerMode(ep.address, socketMode, o); err != nil {
			return nil, err
		}
		return l.File()
	case "unixgram":
		conn, err := listenUnixgram(ep.address, o)
		if err != nil {
			return nil, err
		}
		defer conn.Close()
		return conn.File()
	case "fifo":
		if err := removeStale(ep.address); err != nil {
			return nil, err
		}
		if err := unix.Mkfifo(ep.address, fifoMode); err != nil {
			return nil, fmt.Errorf("create fifo %s: %s", ep.address, strerror(err))
		}
		if err := setOwnerMode(ep.address, fifoMode, o); err != nil {
			return nil, err
		}
		// Read-write, so that the fifo never reports end of file.
		f, err := os.OpenFile(ep.address, os.O_RDWR, 0)
		if err != nil {
			return nil, fmt.Errorf("open fifo %s: %w", ep.address, unwrapPathError(err))
		}
		return f, nil
	default:
		l, err := net.Listen(ep.network, ep.address)
		if err != nil {
			return nil, bindError(ep, err)
		}
		defer l.Close()
		return l.(*net.TCPListener).File()
	}
}

// listenUnixgram creates a datagram socket with Postfix's socket mode.
func listenUnixgram(path string, o Owner) (*net.UnixConn, error) {
	if err := removeStale(path); err != nil {
		return nil, err
	}
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return nil, bindError(endpoint{network: "unixgram", address: path}, err)
	}
	if err := setOwnerMode(path, socketMode, o); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

// removeStale removes a socket or fifo left by an earlier run.
func removeStale(path string) error {
	err := os.Remove(path)
	if err == nil || errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return fmt.Errorf("remove %s: %w", path, unwrapPathError(err))
}

// setOwnerMode sets path's mode (whatever the umask) and, as root, its owner.
func setOwnerMode(path string, mode fs.FileMode, o Owner) error {
	if err := os.Chmod(path, mode); err != nil {
		return fmt.Errorf("chmod %s: %w", path, unwrapPathError(err))
	}
	if o.Privileged {
		if err := os.Chown(path, o.UID, o.GID); err != nil {
			return fmt.Errorf("chown %s: %w", path, unwrapPathError(err))
		}
	}
	return nil
}

// bindError words a failed listen as Postfix does: "bind 127.0.0.1 port
// 25: Address already in use", or "bind PATH: ..." for a socket file.
func bindError(ep endpoint, err error) error {
	var errno unix.Errno
	detail := err.Error()
	if errors.As(err, &errno) {
		detail = strerror(errno)
	}
	if host, port, splitErr := net.SplitHostPort(ep.address); splitErr == nil && strings.HasPrefix(ep.network, "tcp") {
		if host == "" {
			host = "0.0.0.0"
		}
		return fmt.Errorf("bind %s port %s: %s", host, port, detail)
	}
	return fmt.Errorf("bind %s: %s", ep.address, detail)
}

// triggerTimeout bounds one wakeup delivery.
const triggerTimeout = 5 * time.Second

// wakeup sends the one-byte wakeup request to the endpoint the way
// Postfix's trigger clients do: connect (or open), write, close.
func (ep endpoint) wakeup() error {
	request := []byte{byte(ipc.TriggerWakeup)}
	if ep.network == "fifo" {
		f, err := os.OpenFile(ep.address, os.O_WRONLY|unix.O_NONBLOCK, 0)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = f.Write(request)
		return err
	}
	network, address := ep.network, ep.address
	if strings.HasPrefix(network, "tcp") {
		address = dialableAddress(address)
	}
	conn, err := net.DialTimeout(network, address, triggerTimeout)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(triggerTimeout))
	_, err = conn.Write(request)
	return err
}

// dialableAddress replaces a wildcard listening address by loopback.
func dialableAddress(address string) string {
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return address
	}
	switch host {
	case "", "0.0.0.0":
		return net.JoinHostPort("127.0.0.1", port)
	case "::":
		return net.JoinHostPort("::1", port)
	}
	return address
}
