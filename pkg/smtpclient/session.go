// One SMTP session with one server address: greeting, EHLO, STARTTLS,
// AUTH, MAIL, RCPT, DATA and QUIT.

package smtpclient

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/postern/postern/pkg/dsn"
	"github.com/postern/postern/pkg/ipc"
)

// session is one connection to one server.
type session struct {
	*delivery
	target target
	nc     net.Conn
	r      *bufio.Reader
	w      *bufio.Writer
	// ext maps the EHLO keywords to their parameters.
	ext map[string]string
	// tls is true once STARTTLS succeeded; noTLS forbids trying it;
	// tlsReuse allows caching the TLS connection.
	tls, noTLS, tlsReuse bool
	// retryPlain asks for a new connection without STARTTLS (TLS level
	// may, after a failed handshake).
	retryPlain bool
	// setupDone is when the connection setup ended and transmission began.
	setupDone time.Time
	// authenticated is true after AUTH succeeded.
	authenticated bool
	// opened is when the connection was made; uses counts the earlier
	// deliveries over it; parked is true once it waits in the cache.
	opened time.Time
	uses   int
	parked bool
	// chat is the conversation for the postmaster's transcript
	// (notify.go), nil when none is kept; protocolError is set after a
	// reply that says the protocol went wrong: the session is not cached.
	chat          *chatLog
	protocolError bool
	// aborted is set when the transaction ended without sending the
	// message (MAIL, every RCPT or DATA refused, or a probe): the
	// session sends RSET before QUIT, as Postfix's does.
	aborted bool
	// quitSent is set when QUIT went out behind the end of data.
	quitSent bool
}

// sessionError is an I/O failure in the middle of a command.
type sessionError struct {
	stage string
	err   error
}

func (e *sessionError) Error() string { return e.stage + ": " + e.err.Error() }

func (e *sessionError) Unwrap() error { return e.err }

func (s *session) close() { _ = s.nc.Close() }

// lostConnection is the deferral for an I/O failure during stage.
func (s *session) lostConnection(stage string, err error) verdict {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return deferred("4.4.2", fmt.Sprintf("conversation with %s timed out while %s", s.target.hostAddr(), stage))
	}
	return deferred("4.4.2", fmt.Sprintf("lost connection with %s while %s", s.target.hostAddr(), stage))
}

// said is the text for a server's refusal of command.
func (s *session) said(reply Reply, command string) string {
	return fmt.Sprintf("host %s said: %s (in reply to %s command)", s.target.hostAddr(), reply.Text(), command)
}

// rejected turns a 4xx/5xx reply to command into a verdict.
func (s *session) rejected(reply Reply, command string) verdict {
	s.checkCode(reply.Code)
	if c := reply.Class(); c != 4 && c != 5 {
		return bounced("5.5.0", "Protocol error: "+s.said(reply, command))
	}
	if reply.Class() == 5 {
		return bounced(reply.DSN(), s.said(reply, command))
	}
	return deferred(reply.DSN(), s.said(reply, command))
}

// command sends one command line and reads the reply.
func (s *session) command(timeout time.Duration, stage, format string, args ...any) (Reply, error) {
	_ = s.nc.SetDeadline(time.Now().Add(timeout))
	line := fmt.Sprintf(format, args...)
	s.chatOut(line)
	s.w.WriteString(line + "\r\n")
	return s.flushReply(stage)
}

// flushReply flushes what is written and reads one reply; errors name
// stage.
func (s *session) flushReply(stage string) (Reply, error) {
	if err := s.w.Flush(); err != nil {
		return Reply{}, &sessionError{stage, err}
	}
	reply, err := readReply(s.r)
	if err != nil {
		return Reply{}, &sessionError{stage, err}
	}
	s.chatIn(reply)
	return reply, nil
}

// writeBufferSize is the session's write buffer: a 4 KB message and its
// end of data go out in one write, a large one in TLS-record-sized
// pieces (the default 4 KB buffer took two writes for the former and four
// times as many for the latter).
const writeBufferSize = 16 << 10

// The buffers of sessions that ended, for the next ones: one session per
// message (no connection cache, smtp-source's way) allocated 20 KB of
// them per message, most of the smtp agent's garbage.
var (
	readers = sync.Pool{New: func() any { return bufio.NewReader(nil) }}
	writers = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, writeBufferSize) }}
)

// release returns the buffers of a session that ended (closed, never
// parked) to the pools.
func (s *session) release() {
	s.r.Reset(nil)
	s.w.Reset(nil)
	readers.Put(s.r)
	writers.Put(s.w)
	s.r, s.w = nil, nil
}

// run holds the conversation. done is true when the verdicts must stand
// and no other address is to be tried.
func (s *session) run(ctx context.Context) (verdict, bool) {
	stop := context.AfterFunc(ctx, s.close)
	defer stop()
	s.r = readers.Get().(*bufio.Reader)
	s.r.Reset(s.nc)
	s.w = writers.Get().(*bufio.Writer)
	s.w.Reset(s.nc)
	s.lastRelay = s.target.relay()

	v, done, ok := s.setup()
	if !ok {
		return v, done
	}
	s.setupDone = time.Now()
	v, err := s.transaction()
	var se *sessionError
	if errors.As(err, &se) {
		v = s.lostConnection(se.stage, se.err)
		s.settlePending(v)
		return v, true
	}
	s.finish()
	return v, true
}

// finish parks the session for reuse when allowed, after an RSET the
// server accepts, and ends it otherwise.
func (s *session) finish() {
	cache := s.client.cache
	dest, _ := s.storeKeys(s.uses > 0)
	cacheable := s.cacheable()
	if s.quitSent {
		if !s.client.cfg.SkipQuitResponse {
			if reply, err := readReply(s.r); err == nil {
				s.chatIn(reply)
			}
		}
		s.notifyPostmaster()
		return
	}
	if _, pipelined := s.ext["PIPELINING"]; pipelined && s.aborted && !cacheable {
		// RSET and QUIT go out together, as Postfix's pipelined abort.
		s.rsetQuit()
		s.notifyPostmaster()
		return
	}
	if s.aborted || cacheable {
		reply, err := s.command(s.client.cfg.CommandTimeout, "sending RSET", "RSET")
		if err != nil {
			s.notifyPostmaster()
			return
		}
		cacheable = cacheable && reply.Class() == 2
	}
	if !cacheable {
		s.quit()
		s.notifyPostmaster()
		return
	}
	s.notifyPostmaster()
	_ = s.nc.SetDeadline(time.Time{})
	s.parked = true
	cache.park(dest, s.endpointKey(s.target), &parkedSession{s: s, opened: s.opened, uses: s.uses + 1})
}

// cacheable says whether the session may wait in the cache once its
// transaction ends: a new session when the policy stores, a session taken
// from the cache always, TLS only with reuse allowed, and none after a
// protocol error.
func (s *session) cacheable() bool {
	return s.client.cache != nil && (s.cacheStore || s.uses > 0) && (!s.tls || s.tlsReuse) && !s.protocolError
}

// queueQuit puts QUIT behind the end of data when pipelining and the
// session will not be cached, as Postfix's client does; finish then only
// reads its reply.
func (s *session) queueQuit() {
	if _, pipelined := s.ext["PIPELINING"]; !pipelined || s.cacheable() {
		return
	}
	s.chatOut("QUIT")
	s.w.WriteString("QUIT\r\n")
	s.quitSent = true
}

// setup runs the greeting, EHLO, STARTTLS and AUTH. ok is false when the
// session ended with verdict v.
func (s *session) setup() (v verdict, done, ok bool) {
	_ = s.nc.SetDeadline(time.Now().Add(s.client.cfg.CommandTimeout))
	greeting, err := readReply(s.r)
	if err != nil {
		return s.lostConnection("receiving the initial server greeting", err), false, false
	}
	s.chatIn(greeting)
	if greeting.Class() != 2 {
		s.checkCode(greeting.Code)
		text := fmt.Sprintf("host %s refused to talk to me: %s", s.target.hostAddr(), greeting.Text())
		return deferred("4"+greeting.DSN()[1:], text), false, false
	}
	if v, done, ok := s.hello(); !ok {
		return v, done, false
	}
	if v, ok := s.startTLS(); !ok {
		return v, false, false
	}
	if v, ok := s.authenticate(); !ok {
		return v, false, false
	}
	return verdict{}, false, true
}

// hello sends EHLO, or HELO when EHLO is refused, and checks that the
// server is not this host.
func (s *session) hello() (v verdict, done, ok bool) {
	timeout := s.client.cfg.CommandTimeout
	if s.client.cfg.LMTP {
		return s.lhlo()
	}
	reply, err := s.command(timeout, "sending EHLO", "EHLO %s", s.client.cfg.HeloName)
	if err != nil {
		return s.lostConnection("performing the EHLO handshake", err), false, false
	}
	s.ext = map[string]string{}
	if reply.Class() != 2 {
		reply, err = s.command(timeout, "sending HELO", "HELO %s", s.client.cfg.HeloName)
		if err != nil {
			return s.lostConnection("performing the HELO handshake", err), false, false
		}
		if reply.Class() != 2 {
			v := s.rejected(reply, "HELO")
			return v, v.status == ipc.StatusBounced, false
		}
	} else {
		for _, line := range reply.Lines[1:] {
			keyword, params, _ := strings.Cut(line, " ")
			s.ext[strings.ToUpper(keyword)] = params
		}
	}
	if s.target.port == "25" && len(reply.Lines) > 0 {
		name, _, _ := strings.Cut(reply.Lines[0], " ")
		if s.client.isMyHostname(name) {
			s.client.warnf("host %s replied to HELO/EHLO with my own hostname %s", s.target.hostAddr(), s.client.cfg.MyHostname)
			return bounced("5.4.6", fmt.Sprintf("mail for %s loops back to myself", s.target.destHost)), true, false
		}
	}
	return verdict{}, false, true
}

// abortData drops the connection in the middle of DATA, so that the
// server discards the partial message, and defers the recipients.
func (s *session) abortData(err error) verdict {
	s.markError(dsn.ErrorData)
	s.close()
	return deferred("4.3.0", fmt.Sprintf("cannot read message content: %v", err))
}

// rsetQuit sends RSET and QUIT at once and reads RSET's reply, and
// QUIT's unless smtp_skip_quit_response.
func (s *session) rsetQuit() {
	_ = s.nc.SetDeadline(time.Now().Add(s.client.cfg.CommandTimeout))
	s.chatOut("RSET")
	s.chatOut("QUIT")
	s.w.WriteString("RSET\r\nQUIT\r\n")
	if s.w.Flush() != nil {
		return
	}
	for range 2 {
		reply, err := readReply(s.r)
		if err != nil {
			return
		}
		s.chatIn(reply)
		if s.client.cfg.SkipQuitResponse {
			return
		}
	}
}

// quit ends the session politely; its reply does not matter, and with
// smtp_skip_quit_response it is not even read.
func (s *session) quit() {
	if !s.client.cfg.SkipQuitResponse {
		_, _ = s.command(s.client.cfg.CommandTimeout, "sending QUIT", "QUIT")
		return
	}
	_ = s.nc.SetDeadline(time.Now().Add(s.client.cfg.CommandTimeout))
	s.chatOut("QUIT")
	s.w.WriteString("QUIT\r\n")
	_ = s.w.Flush()
}

// settleOne records v for recipient i with this session's relay and delays.
func (s *session) settleOne(i int, v verdict) {
	s.settle(i, v)
	r := &s.results[i]
	r.Relay = s.target.relay()
	r.ConnUse = s.uses
	if r.Status == ipc.StatusSent {
		s.successAction(r)
	}
	now := time.Now()
	if s.setupDone.IsZero() {
		r.ConnSetup = now.Sub(s.started)
		return
	}
	r.ConnSetup = s.setupDone.Sub(s.started)
	r.Transmission = now.Sub(s.setupDone)
}

// successAction says who reports a sent recipient's success: a server
// that announced DSN received the NOTIFY and does; otherwise the notice
// says "relayed" (SMTP) or "delivered" (LMTP, the final hop).
func (s *session) successAction(r *ipc.RecipientResult) {
	if _, dsn := s.ext["DSN"]; dsn {
		r.NotifyPassedOn = true
	} else if !s.client.cfg.LMTP {
		r.Action = "relayed"
	}
}

// settlePending records v for every recipient still without a verdict.
func (s *session) settlePending(v verdict) {
	for i := range s.results {
		if s.results[i].Status == 0 {
			s.settleOne(i, v)
		}
	}
}

// readError is a failure to read the queue file while sending it.
type readError struct{ err error }

func (e *readError) Error() string { return e.err.Error() }

// writeDotStuffed copies LF-terminated content as CRLF lines with leading
// dots doubled, followed by the end-of-data line.
func writeDotStuffed(w *bufio.Writer, content io.Reader) error {
	r := bufio.NewReader(content)
	for {
		line, err := r.ReadSlice('\n')
		if len(line) > 0 || err == bufio.ErrBufferFull {
			// A line longer than the buffer continues in the next slice.
			if line[0] == '.' {
				if err := w.WriteByte('.'); err != nil {
					return err
				}
			}
			for err == bufio.ErrBufferFull {
				if _, werr := w.Write(line); werr != nil {
					return werr
				}
				line, err = r.ReadSlice('\n')
			}
			// No string copies: this runs for every line of every message.
			text := bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
			w.Write(text)
			if _, werr := w.WriteString("\r\n"); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return &readError{err}
		}
	}
	_, err := w.WriteString(".\r\n")
	return err
}
