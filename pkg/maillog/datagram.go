// Unix-domain datagram client shared by the syslog and postlogd destinations.

package maillog

import (
	"net"
	"sync"
	"time"
)

// datagramRetryInterval limits how often a missing socket is retried.
const datagramRetryInterval = time.Second

// maxDatagramBatch bounds the lines that share one datagram to postlogd;
// postlogd reads datagrams of up to maxPostlogDatagram bytes.
const maxDatagramBatch = 16 << 10

// datagramSink sends datagrams to a Unix-domain datagram socket (the
// system logger's, or postlogd's), reconnecting after the server restarts.
//
// To postlogd (batch set) lines that come while a send waits for room in
// postlogd's queue (net.unix.max_dgram_qlen datagrams, 10 by default)
// leave together in the next datagram, one line after another, each ended
// by a newline. A line waits as it would alone: send returns once its
// datagram is in postlogd's queue, and lines keep the order they were
// sent in. A line that finds nothing ahead of it leaves alone, without a
// newline, as Postfix's clients send it.
type datagramSink struct {
	path  string
	now   func() time.Time
	batch bool
	// fallback, when set, takes the lines of a batch that could not be
	// sent, each ended by a newline; it reports whether it took them.
	fallback func(lines []byte) bool

	mu          sync.Mutex
	conn        net.Conn
	lastAttempt time.Time

	// batch mode: the lines waiting, oldest first, and whether one
	// goroutine is writing (it alone uses conn then).
	waiting []*lineBatch
	writing bool
	written *sync.Cond
}

// lineBatch is the lines of one datagram to postlogd.
type lineBatch struct {
	lines []byte // each ended by a newline
	count int
	done  bool // sent, or given to the fallback
	ok    bool
}

func newDatagramSink(path string, now func() time.Time) *datagramSink {
	s := &datagramSink{path: path, now: now}
	s.written = sync.NewCond(&s.mu)
	s.mu.Lock()
	s.connect()
	s.mu.Unlock()
	return s
}

// connect dials the socket; callers hold mu, or write in batch mode.
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
	if s.batch {
		return s.sendBatched(msg)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.write(msg)
}

// write sends msg, reconnecting once; the caller holds mu or is the
// batch writer.
func (s *datagramSink) write(msg []byte) bool {
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

// sendBatched adds line to the newest batch that is not being written
// and returns once that batch is sent. The goroutine that finds no write
// under way writes the oldest batch; the others wait for it.
func (s *datagramSink) sendBatched(line []byte) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.writing && len(s.waiting) == 0 {
		// Nothing ahead of it: the line leaves alone, as it is.
		s.writing = true
		s.mu.Unlock()
		ok := s.write(line)
		if !ok && s.fallback != nil {
			ok = s.fallback(append(line[:len(line):len(line)], '\n'))
		}
		s.mu.Lock()
		s.writing = false
		s.written.Broadcast()
		return ok
	}
	mine := s.join(line)
	for !mine.done {
		if s.writing {
			s.written.Wait()
			continue
		}
		b := s.waiting[0]
		s.waiting = s.waiting[1:]
		s.writing = true
		s.mu.Unlock()
		ok := s.write(b.datagram())
		if !ok && s.fallback != nil {
			ok = s.fallback(b.lines)
		}
		s.mu.Lock()
		s.writing = false
		b.done, b.ok = true, ok
		s.written.Broadcast()
	}
	return mine.ok
}

// join adds line to the newest waiting batch, or to a new one when there
// is none or it is full. mu is held.
func (s *datagramSink) join(line []byte) *lineBatch {
	if n := len(s.waiting); n > 0 {
		if b := s.waiting[n-1]; len(b.lines)+len(line) < maxDatagramBatch {
			b.add(line)
			return b
		}
	}
	b := &lineBatch{}
	b.add(line)
	s.waiting = append(s.waiting, b)
	return b
}

func (b *lineBatch) add(line []byte) {
	b.lines = append(append(b.lines, line...), '\n')
	b.count++
}

// datagram is what goes to postlogd: a line alone as Postfix sends it
// (no newline), several lines each ended by a newline.
func (b *lineBatch) datagram() []byte {
	if b.count == 1 {
		return b.lines[:len(b.lines)-1]
	}
	return b.lines
}

func (s *datagramSink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.writing {
		s.written.Wait()
	}
	if s.conn == nil {
		return nil
	}
	err := s.conn.Close()
	s.conn = nil
	return err
}
