// Test peers: go-smtp servers on loopback addresses that record what they
// receive, with scripted refusals, TLS and AUTH.

package smtpclient

import (
	"bufio"
	"crypto/hmac"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// received is one message a sink accepted.
type received struct {
	from string
	size int64
	to   []string
	data string
	tls  bool
	user string
	// clientCN is the common name of the client's TLS certificate.
	clientCN string
	// dsn records the RET/ENVID and per-recipient NOTIFY/ORCPT received.
	dsn []string
}

// sink is a recording SMTP server.
type sink struct {
	addr string
	srv  *smtp.Server

	mu       sync.Mutex
	sessions int
	messages []received
	// refuse maps a recipient address to the error its RCPT gets.
	refuse map[string]*smtp.SMTPError
	// mechs are the AUTH mechanisms offered; users maps user → password.
	mechs []string
	users map[string]string
}

type sinkOption func(*sink)

// listenSink starts a sink on addr ("127.0.0.3:0" or a fixed port).
func listenSink(t *testing.T, addr string, opts ...sinkOption) *sink {
	t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen %s: %v", addr, err)
	}
	s := &sink{addr: l.Addr().String(), refuse: map[string]*smtp.SMTPError{}, users: map[string]string{}}
	s.srv = smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		s.mu.Lock()
		s.sessions++
		s.mu.Unlock()
		return &sinkSession{sink: s, conn: c}, nil
	}))
	s.srv.Domain = "sink.test"
	s.srv.ReadTimeout = 60 * time.Second
	s.srv.WriteTimeout = 60 * time.Second
	s.srv.ErrorLog = discardLog{}
	for _, o := range opts {
		o(s)
	}
	go func() { _ = s.srv.Serve(l) }()
	t.Cleanup(func() { _ = s.srv.Close() })
	return s
}

type discardLog struct{}

func (discardLog) Printf(string, ...any) {}
func (discardLog) Println(...any)        {}

func (s *sink) port() string {
	_, port, _ := net.SplitHostPort(s.addr)
	return port
}

func (s *sink) sessionCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions
}

func (s *sink) received() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.messages...)
}

type sinkSession struct {
	sink *sink
	conn *smtp.Conn
	msg  received
}

func (ss *sinkSession) Reset()        { ss.msg = received{user: ss.msg.user} }
func (ss *sinkSession) Logout() error { return nil }

func (ss *sinkSession) Mail(from string, opts *smtp.MailOptions) error {
	ss.msg.from = from
	if opts != nil {
		ss.msg.size = opts.Size
		if opts.Return != "" || opts.EnvelopeID != "" {
			ss.msg.dsn = append(ss.msg.dsn, fmt.Sprintf("RET=%s ENVID=%s", opts.Return, opts.EnvelopeID))
		}
	}
	return nil
}

func (ss *sinkSession) Rcpt(to string, opts *smtp.RcptOptions) error {
	if opts != nil && (len(opts.Notify) > 0 || opts.OriginalRecipient != "") {
		ss.msg.dsn = append(ss.msg.dsn, fmt.Sprintf("%s NOTIFY=%v ORCPT=%s;%s", to, opts.Notify, opts.OriginalRecipientType, opts.OriginalRecipient))
	}
	ss.sink.mu.Lock()
	refusal := ss.sink.refuse[to]
	ss.sink.mu.Unlock()
	if refusal != nil {
		return refusal
	}
	ss.msg.to = append(ss.msg.to, to)
	return nil
}

func (ss *sinkSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ss.msg.data = string(data)
	st, isTLS := ss.conn.TLSConnectionState()
	ss.msg.tls = isTLS
	if isTLS && len(st.PeerCertificates) > 0 {
		ss.msg.clientCN = st.PeerCertificates[0].Subject.CommonName
	}
	ss.sink.mu.Lock()
	ss.sink.messages = append(ss.sink.messages, ss.msg)
	ss.sink.mu.Unlock()
	return &smtp.SMTPError{Code: 250, EnhancedCode: smtp.EnhancedCode{2, 0, 0}, Message: "Ok: queued as SINK1"}
}

func (ss *sinkSession) AuthMechanisms() []string { return ss.sink.mechs }

var errBadPassword = errors.New("authentication failed")

func (ss *sinkSession) Auth(mech string) (sasl.Server, error) {
	check := func(user, password string) error {
		ss.sink.mu.Lock()
		defer ss.sink.mu.Unlock()
		if want, ok := ss.sink.users[user]; !ok || want != password {
			return errBadPassword
		}
		ss.msg.user = user
		return nil
	}
	switch mech {
	case "PLAIN":
		return sasl.NewPlainServer(func(_, user, password string) error { return check(user, password) }), nil
	case "LOGIN":
		return &loginServer{check: check}, nil
	case "CRAM-MD5":
		return &cramServer{sink: ss.sink, ok: func(user string) { ss.msg.user = user }}, nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

// loginServer is the server side of AUTH LOGIN.
type loginServer struct {
	step  int
	user  string
	check func(user, password string) error
}

func (l *loginServer) Next(response []byte) ([]byte, bool, error) {
	l.step++
	switch l.step {
	case 1:
		return []byte("Username:"), false, nil
	case 2:
		l.user = string(response)
		return []byte("Password:"), false, nil
	}
	return nil, true, l.check(l.user, string(response))
}

// cramServer is the server side of AUTH CRAM-MD5.
type cramServer struct {
	sink      *sink
	challenge string
	ok        func(user string)
}

func (c *cramServer) Next(response []byte) ([]byte, bool, error) {
	if c.challenge == "" {
		c.challenge = "<1896.697170952@sink.test>"
		return []byte(c.challenge), false, nil
	}
	user, digest, _ := strings.Cut(string(response), " ")
	c.sink.mu.Lock()
	password, known := c.sink.users[user]
	c.sink.mu.Unlock()
	mac := hmac.New(md5.New, []byte(password))
	mac.Write([]byte(c.challenge))
	if !known || digest != hex.EncodeToString(mac.Sum(nil)) {
		return nil, true, errBadPassword
	}
	c.ok(user)
	return nil, true, nil
}

func refusing(rcpt string, code int, enhanced smtp.EnhancedCode, text string) sinkOption {
	return func(s *sink) { s.refuse[rcpt] = &smtp.SMTPError{Code: code, EnhancedCode: enhanced, Message: text} }
}

func withAuth(user, password string, mechs ...string) sinkOption {
	return func(s *sink) {
		s.users[user] = password
		s.mechs = mechs
	}
}

func insecureAuth(s *sink) { s.srv.AllowInsecureAuth = true }

func withDSN(s *sink) { s.srv.EnableDSN = true }

// freePort finds a port that is free on 127.0.0.1, to be reused on other
// loopback addresses.
func freePort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}

func hostPort(ip, port string) string { return fmt.Sprintf("%s:%s", ip, port) }

// scriptedServer accepts one connection on 127.0.0.3 and answers each
// line it reads with the next of replies (the first is the greeting),
// then closes.
func scriptedServer(t *testing.T, replies ...string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.3:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		nc, err := l.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		_ = nc.SetDeadline(time.Now().Add(60 * time.Second))
		r := bufio.NewReader(nc)
		for i, reply := range replies {
			if i > 0 {
				if _, err := r.ReadString('\n'); err != nil {
					return
				}
			}
			if _, err := io.WriteString(nc, reply+"\r\n"); err != nil {
				return
			}
		}
		_, _ = r.ReadString('\n')
	}()
	return l.Addr().String()
}
