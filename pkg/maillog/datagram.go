// Unix-domain datagram client shared by the syslog and postlogd destinations.

package maillog

import (
	"net"
	"sync"
	"time"
)

// datagramRetryInterval limits how often a missing socket is retried.
const datagramRetryInterval = time.Second

// datagramSink sends datagrams to a Unix-domain datagram socket (the
// system logger's, or postlogd's), reconnecting after the server restarts.
type datagramSink struct {
	path string
	now  func() time.Time

	mu          sync.Mutex
	conn        net.Conn
	lastAttempt time.Time
}

func newDatagramSink(path string, now func() time.Time) *datagramSink {
	s := &datagramSink{path: path, now: now}
	s.mu.Lock()
	s.connect()
	s.mu.Unlock()
	return s
}

// connect dials the socket; callers hold mu.
func (s *datagramSink) connect() {
	s.lastAttempt = s.now()
	conn, err := net.Dial("unixgram", s.path)
	if err == nil {
		s.conn = conn
	}
}

// send delivers one datagram. It reports false when the server cannot be
// reached, so that the caller can fall back to another destination.
func (s *datagramSink) send(msg []byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for attempt := 0; attempt < 2; attempt++ {
		if s.conn == nil {
			if attempt == 0 && s.now().Sub(s.lastAttempt) < datagramRetryInterval {
				return false
			}
			s.connect()
			if s.conn == nil {
				return false
			}
		}
		if _, err := s.conn.Write(msg); err == nil {
			return true
		}
		s.conn.Close()
		s.conn = nil
		s.lastAttempt = time.Time{}
	}
	return false
}

func (s *datagramSink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil {
		return nil
	}
	err := s.conn.Close()
	s.conn = nil
	return err
}
