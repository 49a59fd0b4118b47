// The postlogd side of maillog_file: append lines received on the postlog socket.

package maillog

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// maxPostlogLine caps a line taken from the postlog socket, which any
// local user may write to; a Logger's lines are well below it.
const maxPostlogLine = 4096

// maxPostlogDatagram is the largest datagram read whole: a Logger's batch
// of lines (maxDatagramBatch) fits.
const maxPostlogDatagram = 64 << 10

// LogServer appends the lines that Loggers send to the postlog socket
// (Options.PostlogSocket) to maillog_file, as Postfix's postlogd(8) does.
// A datagram is one line, as Postfix's clients send it, or, when it ends
// with a newline, one line per newline (a Logger sends the lines that
// waited for room in the socket's queue together). Control characters
// within a line are replaced, so a line a client sends stays one line.
type LogServer struct {
	sink *fileSink
}

// NewLogServer checks file against prefixes (maillog_file and
// maillog_file_prefixes) and opens it for appending.
func NewLogServer(file, prefixes string) (*LogServer, error) {
	if file == "" {
		return nil, fmt.Errorf("postlogd: maillog_file is empty")
	}
	if err := CheckFilePrefixes(file, prefixes); err != nil {
		return nil, err
	}
	sink, err := openFileSink(file, time.Now)
	if err != nil {
		return nil, err
	}
	sink.raw = true
	return &LogServer{sink: sink}, nil
}

// LogServerFromParams opens the log server for maillog_file and
// maillog_file_prefixes as get (config.Config.Get) returns them.
func LogServerFromParams(get func(name string) (string, error)) (*LogServer, error) {
	var o Options
	if err := o.ReadParams(get); err != nil {
		return nil, err
	}
	return NewLogServer(o.File, o.FilePrefixes)
}

// Serve appends every datagram read from conn until conn is closed, which
// ends it with a nil error. A failure to write the file ends it with that
// error. The datagrams waiting on a Unix socket are read in one go and
// appended with one write.
func (s *LogServer) Serve(conn net.PacketConn) error {
	if uc, ok := conn.(*net.UnixConn); ok {
		if raw, err := uc.SyscallConn(); err == nil {
			return s.serveBatches(raw)
		}
	}
	buf := make([]byte, maxPostlogDatagram)
	line := make([]byte, 0, maxPostlogDatagram)
	for {
		n, _, err := conn.ReadFrom(buf)
		if errors.Is(err, net.ErrClosed) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read postlog socket: %w", err)
		}
		if n == 0 {
			continue
		}
		line = appendDatagram(line[:0], buf[:n])
		if err := s.sink.writeLine(line); err != nil {
			return err
		}
	}
}

// maxPostlogBatch is how many bytes of lines one write appends at most.
const maxPostlogBatch = 64 << 10

// serveBatches is Serve on a socket's descriptor: it waits until a
// datagram is there, takes every one that is (up to maxPostlogBatch
// bytes of lines) without blocking, and appends them with one write.
// Under load that is one wakeup and one write for many lines instead of
// one each.
func (s *LogServer) serveBatches(raw syscall.RawConn) error {
	buf := make([]byte, maxPostlogDatagram)
	batch := make([]byte, 0, maxPostlogBatch+2*maxPostlogDatagram)
	var readErr error
	// The datagrams are taken by raw recvfrom calls: with MSG_DONTWAIT
	// they never wait, and the runtime, not told, does not wake its
	// monitor thread (sysmon) at each batch.
	drain := func(fd uintptr) bool {
		for len(batch) < maxPostlogBatch {
			r, _, e := unix.RawSyscall6(unix.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), unix.MSG_DONTWAIT, 0, 0)
			if e == unix.EINTR {
				continue
			}
			if e == unix.EAGAIN {
				return len(batch) > 0 // nothing yet: wait for the socket
			}
			if e != 0 {
				readErr = e
				return true
			}
			if n := int(r); n > 0 {
				batch = appendDatagram(batch, buf[:n])
			}
		}
		return true
	}
	for {
		batch = batch[:0]
		err := raw.Read(drain)
		if len(batch) > 0 {
			if werr := s.sink.writeLine(batch); werr != nil {
				return werr
			}
		}
		if errors.Is(err, net.ErrClosed) {
			return nil
		}
		if err == nil {
			err, readErr = readErr, nil
		}
		if err != nil {
			return fmt.Errorf("read postlog socket: %w", err)
		}
	}
}

// appendDatagram appends the lines of one datagram: the whole datagram as
// one line, or, when it ends with a newline, each line it holds.
func appendDatagram(dst, datagram []byte) []byte {
	if datagram[len(datagram)-1] != '\n' {
		return appendLine(dst, datagram)
	}
	for len(datagram) > 0 {
		i := bytes.IndexByte(datagram, '\n')
		if i > 0 {
			dst = appendLine(dst, datagram[:i])
		}
		datagram = datagram[i+1:]
	}
	return dst
}

// appendLine appends one line of a datagram: cut at maxPostlogLine, its
// control characters replaced, a newline added.
func appendLine(dst, datagram []byte) []byte {
	if len(datagram) > maxPostlogLine {
		datagram = datagram[:maxPostlogLine]
	}
	dst = appendSanitized(dst, string(datagram))
	return append(dst, '\n')
}

// Close closes maillog_file.
func (s *LogServer) Close() error { return s.sink.Close() }
