// The postlogd side of maillog_file: append lines received on the postlog socket.

package maillog

import (
	"errors"
	"fmt"
	"net"
	"time"
)

// maxPostlogLine caps a line taken from the postlog socket, which any
// local user may write to; a Logger's lines are well below it.
const maxPostlogLine = 4096

// LogServer appends the lines that Loggers send to the postlog socket
// (Options.PostlogSocket) to maillog_file, as Postfix's postlogd(8) does.
// Each datagram becomes one line; control characters are replaced, so a
// local client cannot forge or split lines.
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
// error.
func (s *LogServer) Serve(conn net.PacketConn) error {
	buf := make([]byte, maxPostlogLine+1)
	line := make([]byte, 0, maxPostlogLine*2)
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
		if n > maxPostlogLine {
			n = maxPostlogLine
		}
		line = appendSanitized(line[:0], string(buf[:n]))
		line = append(line, '\n')
		if err := s.sink.writeLine(line); err != nil {
			return err
		}
	}
}

// Close closes maillog_file.
func (s *LogServer) Close() error { return s.sink.Close() }
