// Package mastercf reads Postfix's master.cf: one service per logical line,
// eight columns with "-" defaults, and the daemon's command-line arguments.
package mastercf

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Type is the transport type column of a master.cf entry.
type Type string

// The service types master.cf accepts.
const (
	TypeInet      Type = "inet"       // TCP listener on [host:]port
	TypeUnix      Type = "unix"       // UNIX-domain stream socket
	TypeUnixDgram Type = "unix-dgram" // UNIX-domain datagram socket (postlog)
	TypeFIFO      Type = "fifo"       // named pipe (obsolete)
	TypePass      Type = "pass"       // UNIX-domain socket that receives file descriptors
)

func validType(t string) bool {
	switch Type(t) {
	case TypeInet, TypeUnix, TypeUnixDgram, TypeFIFO, TypePass:
		return true
	}
	return false
}

// Option is one "-o name=value" override from an entry's arguments.
type Option struct {
	Name  string
	Value string
}

// Entry is one service: the eight columns as written, and the arguments
// after the command.
type Entry struct {
	// Service, Type, Private, Unprivileged, Chroot, Wakeup, ProcessLimit and
	// Command hold the columns exactly as written, "-" included.
	Service      string
	Type         Type
	Private      string
	Unprivileged string
	Chroot       string
	Wakeup       string
	ProcessLimit string
	Command      string

	// Args are the words after the command as master passes them to the
	// daemon: a word written as "{ text }" becomes "text".
	Args []string

	// Options are the "-o name=value" overrides, in order, read the way a
	// daemon's getopt reads them: options end at the first word that does not
	// start with "-", or at "--". "-o { name = value }" gives Name "name" and
	// Value "value".
	Options []Option

	// Path and Line locate the entry's first line.
	Path string
	Line int

	// words are the argument words as written, braces included, kept for
	// printing the entry the way postconf does. An Entry built by hand has
	// none and prints its Args instead.
	words []string
}

// Key returns "service/type", the name postconf and master use for an entry.
func (e *Entry) Key() string { return e.Service + "/" + string(e.Type) }

// IsPrivate reports whether the socket lives in private/ (default yes).
func (e *Entry) IsPrivate() bool { return boolField(e.Private, true) }

// IsUnprivileged reports whether the daemon runs as mail_owner (default yes).
func (e *Entry) IsUnprivileged() bool { return boolField(e.Unprivileged, true) }

// IsChroot reports whether the daemon chroots into the queue directory
// (default no, as in Postfix 3.0 and later).
func (e *Entry) IsChroot() bool { return boolField(e.Chroot, false) }

// WakeupTime returns the wakeup interval in seconds (0: never) and whether it
// is conditional, i.e. written with a trailing "?" so that master sends no
// wakeup before the service is first used.
func (e *Entry) WakeupTime() (seconds int, conditional bool) {
	if e.Wakeup == "-" {
		return 0, false
	}
	digits := strings.TrimSuffix(e.Wakeup, "?")
	n := atoiSaturated(digits)
	return n, n > 0 && digits != e.Wakeup
}

// MaxProc returns the process limit, taking defaultProcessLimit (the
// default_process_limit parameter) for "-". Zero means no limit.
func (e *Entry) MaxProc(defaultProcessLimit int) int {
	if e.ProcessLimit == "-" {
		return defaultProcessLimit
	}
	return atoiSaturated(e.ProcessLimit)
}

// atoiSaturated converts a checked decimal column, capping absurdly large
// values at math.MaxInt32 rather than wrapping as C's atoi would.
func atoiSaturated(digits string) int {
	n, err := strconv.ParseInt(digits, 10, 32)
	if errors.Is(err, strconv.ErrRange) {
		return math.MaxInt32
	}
	return int(n)
}

// Operands returns the arguments left after the daemon options (the words
// after "--" or from the first word not starting with "-"), such as the
// "flags=... user=... argv=..." of a pipe entry.
func (e *Entry) Operands() []string {
	for i := 0; i < len(e.Args); i++ {
		arg := e.Args[i]
		switch {
		case arg == "--":
			return e.Args[i+1:]
		case arg == "-" || !strings.HasPrefix(arg, "-"):
			return e.Args[i:]
		case strings.IndexByte(arg, 'o') == len(arg)-1:
			i++ // "-o" or "-vo": the next word is the value
		}
	}
	return nil
}

// SocketPath returns where a unix, unix-dgram, fifo or pass service's
// endpoint lives relative to the queue directory: "private/NAME" or
// "public/NAME". It returns "" for inet services.
func (e *Entry) SocketPath() string {
	if e.Type == TypeInet {
		return ""
	}
	if e.IsPrivate() {
		return "private/" + e.Service
	}
	return "public/" + e.Service
}

// InetEndpoint splits an inet service name into host and port:
// "smtp" gives ("", "smtp"), "127.0.0.1:2525" gives ("127.0.0.1", "2525"),
// "[::1]:smtp" gives ("::1", "smtp"). An empty host means every address in
// inet_interfaces.
func (e *Entry) InetEndpoint() (host, port string, err error) {
	if e.Type != TypeInet {
		return "", "", fmt.Errorf("service %s: not an inet service", e.Key())
	}
	return SplitHostPort(e.Service)
}

// SplitHostPort splits "[host]:port", "host:port" or "port".
func SplitHostPort(name string) (host, port string, err error) {
	rest := name
	if strings.HasPrefix(rest, "[") {
		end := strings.IndexByte(rest, ']')
		if end < 0 {
			return "", "", fmt.Errorf("missing \"]\" in \"%s\"", name)
		}
		host, rest = rest[1:end], rest[end+1:]
		if !strings.HasPrefix(rest, ":") {
			return "", "", fmt.Errorf("missing \":\" after \"]\" in \"%s\"", name)
		}
		port = rest[1:]
	} else if i := strings.LastIndexByte(rest, ':'); i >= 0 {
		host, port = rest[:i], rest[i+1:]
		if host == "" {
			return "", "", fmt.Errorf("missing host in \"%s\"", name)
		}
	} else {
		port = rest
	}
	if port == "" {
		return "", "", fmt.Errorf("missing port in \"%s\"", name)
	}
	return host, port, nil
}

func boolField(value string, def bool) bool {
	if value == "-" {
		return def
	}
	return value == "y"
}
