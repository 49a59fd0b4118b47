// Helpers for the delivery end-to-end tests: a full Postern pipeline (smtpd, cleanup, qmgr, smtp) and go-smtp sinks on 127.0.0.x.

package tests

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	gosasl "github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"

	"github.com/postern/postern/tests/internal/harness"
)

// deliveryRun is a Postern instance whose smtpd listens on addr and whose
// qmgr hands mail to the real smtp delivery agent.
type deliveryRun struct {
	*masterRun
	addr string
}

// newDelivery prepares smtpd, cleanup, qmgr and smtp (also as "relay")
// with mainCF appended to a base main.cf that trusts 127.0.0.0/8 and
// retries quickly; run starts it.
func newDelivery(t *testing.T, mainCF string) *deliveryRun {
	t.Helper()
	addr := harness.FreeAddr(t)
	in := newMasterRun(t, masterRunOptions{masterCF: fmt.Sprintf(`# the delivery pipeline
%s inet n - n - - smtpd
cleanup unix n - n - 0 cleanup
qmgr unix n - n 300 1 qmgr
smtp unix - - n - - smtp
relay unix - - n - - smtp
postlog unix-dgram n - n - 1 postlogd
`, addr)})
	in.linkDaemons("smtpd", "cleanup", "qmgr", "smtp")
	in.appendMainCF(`mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
alias_maps =
local_recipient_maps =
minimal_backoff_time = 1s
maximal_backoff_time = 2s
queue_run_delay = 1s
smtp_connect_timeout = 5s
` + mainCF)
	return &deliveryRun{masterRun: in, addr: addr}
}

// run starts the instance and waits for smtpd.
func (in *deliveryRun) run() *deliveryRun {
	in.t.Helper()
	in.start()
	waitListening(in.t, in.addr)
	return in
}

// addPickup adds the pickup service to master.cf and links pickup and
// sendmail, for submissions with sendmail; call it before run.
func (in *deliveryRun) addPickup() {
	in.t.Helper()
	masterCF, err := os.ReadFile(filepath.Join(in.etc, "master.cf"))
	if err != nil {
		in.t.Fatal(err)
	}
	in.writeMasterCF(string(masterCF) + "pickup unix n - n 60 1 pickup\n")
	in.linkDaemons("pickup", "sendmail")
}

// startDelivery is newDelivery followed by run.
func startDelivery(t *testing.T, mainCF string) *deliveryRun {
	t.Helper()
	return newDelivery(t, mainCF).run()
}

// send submits one message through smtpd.
func (in *deliveryRun) send(from string, to []string, body string) {
	in.t.Helper()
	if err := harness.SendMail(in.addr, from, to, []byte(body)); err != nil {
		in.t.Fatalf("SendMail to %s: %v\nlog:\n%s", in.addr, err, in.log())
	}
}

// writeMap writes a table source file in etc/ and builds its hash map
// with Postern's postmap; it returns "hash:PATH".
func (in *deliveryRun) writeMap(name, content string) string {
	in.t.Helper()
	path := filepath.Join(in.etc, name)
	harness.WriteFile(in.t, path, content)
	res := harness.Invocation{Path: harness.Bin(in.t, "postmap"), ConfigDir: in.etc, Args: []string{"hash:" + path}}.Run(in.t)
	if res.ExitCode != 0 {
		in.t.Fatalf("postmap %s: %s", path, res)
	}
	in.giveAway(path)
	in.giveAway(path + ".db")
	return "hash:" + path
}

// waitListedDeferred waits until postqueue -p lists message id in the
// deferred queue (no "*" of the active queue after its ID) with reason,
// and returns the listing. An agent logs a deferral before it answers
// qmgr, which then records the reason and moves the file to deferred/.
func (in *deliveryRun) waitListedDeferred(id, reason string) string {
	in.t.Helper()
	deferred := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(id) + ` `)
	deadline := time.Now().Add(30 * time.Second)
	for {
		res := in.postqueue("-p")
		if res.ExitCode == 0 && deferred.MatchString(res.Stdout) && strings.Contains(res.Stdout, "("+reason+")") {
			return res.Stdout
		}
		if time.Now().After(deadline) {
			in.t.Fatalf("postqueue -p does not list %s deferred (%s) after 30s:\n%s", id, reason, res)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// postqueue runs Postern's postqueue with args against this instance.
func (in *deliveryRun) postqueue(args ...string) harness.Result {
	in.t.Helper()
	return harness.Invocation{Path: harness.Bin(in.t, "postqueue"), ConfigDir: in.etc, Args: args, AsUser: in.asUser}.Run(in.t)
}

// sinkMessage is one message a sink accepted.
type sinkMessage struct {
	From string
	To   []string
	Data string
}

// sinkOptions shape a sink's behaviour.
type sinkOptions struct {
	// rejectPrefix makes RCPT TO addresses starting with it fail with 550.
	rejectPrefix string
	// tempFailAll makes every RCPT TO fail with 451, tempFailPrefix
	// those starting with it.
	tempFailAll    bool
	tempFailPrefix string
	// tls offers STARTTLS with this configuration.
	tls *tls.Config
	// authMechs, when set, offers AUTH with these mechanisms and requires
	// it before MAIL; only PLAIN with user/password can succeed.
	authMechs      []string
	user, password string
}

// smtpSink is a go-smtp server that records what it accepts.
type smtpSink struct {
	addr   string
	name   string
	opts   sinkOptions
	server *gosmtp.Server

	mu       sync.Mutex
	messages []sinkMessage
	authed   []string
}

// startSink listens on addr ("127.0.0.x:port") and greets as name.
func startSink(t *testing.T, addr, name string, opts sinkOptions) *smtpSink {
	t.Helper()
	s := &smtpSink{addr: addr, name: name, opts: opts}
	s.server = gosmtp.NewServer(s)
	s.server.Domain = name
	s.server.TLSConfig = opts.tls
	s.server.ReadTimeout = 30 * time.Second
	s.server.WriteTimeout = 30 * time.Second
	// Connections cut by killed daemons are expected; do not log them.
	s.server.ErrorLog = log.New(io.Discard, "", 0)
	ln := listenRetrying(t, addr, "sink "+name)
	go s.server.Serve(ln)
	t.Cleanup(func() { s.server.Close() })
	return s
}

// stop closes the sink's listener and sessions.
func (s *smtpSink) stop() { s.server.Close() }

// received returns a copy of the accepted messages.
func (s *smtpSink) received() []sinkMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sinkMessage(nil), s.messages...)
}

// waitMessages waits until the sink holds at least n messages.
func (s *smtpSink) waitMessages(t *testing.T, in *deliveryRun, n int, timeout time.Duration) []sinkMessage {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		msgs := s.received()
		if len(msgs) >= n {
			return msgs
		}
		if time.Now().After(deadline) {
			t.Fatalf("sink %s has %d messages after %v, want %d; log:\n%s", s.name, len(msgs), timeout, n, in.log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// NewSession implements gosmtp.Backend.
func (s *smtpSink) NewSession(*gosmtp.Conn) (gosmtp.Session, error) {
	return &sinkSession{sink: s}, nil
}

// sinkSession is one SMTP session with a sink.
type sinkSession struct {
	sink   *smtpSink
	authed bool
	msg    sinkMessage
}

func (ss *sinkSession) Reset()        { ss.msg = sinkMessage{} }
func (ss *sinkSession) Logout() error { return nil }

func (ss *sinkSession) Mail(from string, _ *gosmtp.MailOptions) error {
	if len(ss.sink.opts.authMechs) > 0 && !ss.authed {
		return &gosmtp.SMTPError{Code: 530, EnhancedCode: gosmtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}
	}
	ss.msg = sinkMessage{From: from}
	return nil
}

func (ss *sinkSession) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	o := ss.sink.opts
	switch {
	case o.tempFailAll, o.tempFailPrefix != "" && strings.HasPrefix(to, o.tempFailPrefix):
		return &gosmtp.SMTPError{Code: 451, EnhancedCode: gosmtp.EnhancedCode{4, 3, 0}, Message: "<" + to + ">: try again later"}
	case o.rejectPrefix != "" && strings.HasPrefix(to, o.rejectPrefix):
		return &gosmtp.SMTPError{Code: 550, EnhancedCode: gosmtp.EnhancedCode{5, 1, 1}, Message: "<" + to + ">: Recipient address rejected: no such user"}
	}
	ss.msg.To = append(ss.msg.To, to)
	return nil
}

func (ss *sinkSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ss.msg.Data = string(data)
	ss.sink.mu.Lock()
	ss.sink.messages = append(ss.sink.messages, ss.msg)
	ss.sink.mu.Unlock()
	return nil
}

// AuthMechanisms implements gosmtp.AuthSession.
func (ss *sinkSession) AuthMechanisms() []string { return ss.sink.opts.authMechs }

// Auth implements gosmtp.AuthSession: PLAIN checks the sink's password.
func (ss *sinkSession) Auth(mech string) (gosasl.Server, error) {
	if mech != gosasl.Plain {
		return nil, gosmtp.ErrAuthUnknownMechanism
	}
	return gosasl.NewPlainServer(func(_, user, password string) error {
		if user != ss.sink.opts.user || password != ss.sink.opts.password {
			return errors.New("bad credentials")
		}
		ss.authed = true
		ss.sink.mu.Lock()
		ss.sink.authed = append(ss.sink.authed, user)
		ss.sink.mu.Unlock()
		return nil
	}), nil
}

// sinkPort returns a port free on 127.0.0.1, used for sinks on other
// 127.0.0.x addresses too (smtp_tcp_port is one port for all MX hosts).
func sinkPort(t *testing.T) string {
	t.Helper()
	_, port, _ := net.SplitHostPort(harness.FreeAddr(t))
	return port
}

// listenRetrying listens on addr, a port picked earlier (FreeAddr,
// sinkPort) that something else may hold for a moment, trying for up to
// a second; what names the server in the failure.
func listenRetrying(t *testing.T, addr, what string) net.Listener {
	t.Helper()
	var ln net.Listener
	var err error
	for try := 0; try < 50; try++ {
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("%s listen: %v", what, err)
	}
	return ln
}
