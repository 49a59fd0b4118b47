// Service endpoints: creating the listeners master hands to daemons, and sending wakeup triggers to them.

package supervisor

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"strings"
	"sync"
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
		var l *net.UnixListener
		err := withMode(socketMode, func() (err error) {
			l, err = net.ListenUnix("unix", &net.UnixAddr{Name: ep.address, Net: "unix"})
			return err
		})
		if err != nil {
			return nil, bindError(ep, err)
		}
		l.SetUnlinkOnClose(false)
		defer l.Close()
		if err := setOwner(ep.address, o); err != nil {
			return nil, err
		}
		return blockingCopy(l.File())
	case "unixgram":
		conn, err := listenUnixgram(ep.address, o)
		if err != nil {
			return nil, err
		}
		defer conn.Close()
		return blockingCopy(conn.File())
	case "fifo":
		if err := removeStale(ep.address); err != nil {
			return nil, err
		}
		err := withMode(fifoMode, func() error { return unix.Mkfifo(ep.address, fifoMode) })
		if err != nil {
			return nil, fmt.Errorf("create fifo %s: %s", ep.address, strerror(err))
		}
		if err := setOwner(ep.address, o); err != nil {
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
		return blockingCopy(l.(*net.TCPListener).File())
	}
}

// blockingCopy turns the copy of a socket that net hands out into a plain
// blocking descriptor. Passing a non-blocking *os.File to a child makes
// os/exec switch it to blocking mode, which would change the shared open
// file under a daemon already serving it; a plain file is passed as it is.
func blockingCopy(f *os.File, err error) (*os.File, error) {
	if err != nil {
		return nil, err
	}
	defer f.Close()
	raw, err := f.SyscallConn()
	if err != nil {
		return nil, err
	}
	var fd int
	var dupErr error
	if err := raw.Control(func(orig uintptr) {
		fd, dupErr = unix.FcntlInt(orig, unix.F_DUPFD_CLOEXEC, 0)
	}); err != nil {
		return nil, err
	}
	if dupErr != nil {
		return nil, fmt.Errorf("dup %s: %w", f.Name(), dupErr)
	}
	if err := unix.SetNonblock(fd, false); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("set blocking %s: %w", f.Name(), err)
	}
	return os.NewFile(uintptr(fd), f.Name()), nil
}

// listenUnixgram creates a datagram socket with Postfix's socket mode.
func listenUnixgram(path string, o Owner) (*net.UnixConn, error) {
	if err := removeStale(path); err != nil {
		return nil, err
	}
	var conn *net.UnixConn
	err := withMode(socketMode, func() (err error) {
		conn, err = net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
		return err
	})
	if err != nil {
		return nil, bindError(endpoint{network: "unixgram", address: path}, err)
	}
	if err := setOwner(path, o); err != nil {
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

// umaskMu serialises the umask changes of withMode.
var umaskMu sync.Mutex

// withMode runs create (which makes a socket or fifo) under the umask
// that gives the new file exactly mode, so that the mode is never set by
// path afterwards, where a planted symlink could redirect it.
func withMode(mode fs.FileMode, create func() error) error {
	umaskMu.Lock()
	defer umaskMu.Unlock()
	old := unix.Umask(int(^mode & 0o777))
	defer unix.Umask(old)
	return create()
}

// setOwner gives path (not a symlink's target) to the owner, as root.
func setOwner(path string, o Owner) error {
	if !o.Privileged {
		return nil
	}
	if err := os.Lchown(path, o.UID, o.GID); err != nil {
		return fmt.Errorf("chown %s: %w", path, unwrapPathError(err))
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
	ctx, cancel := context.WithTimeout(context.Background(), triggerTimeout)
	defer cancel()
	address := ep.address
	if strings.HasPrefix(ep.network, "tcp") {
		address = dialableAddress(address)
	}
	return ipc.SendRawTrigger(ctx, ep.network, address, ipc.TriggerWakeup)
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
