// Server: what an SMTP session needs (settings, policy, cleanup, log) and the client name lookup.
package smtpd

import (
	"context"
	"net"
	"strings"
	"time"

	"github.com/postern/postern/pkg/addr"
	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/policy"
)

// Logger receives smtpd's log lines; *maillog.Logger implements it.
type Logger interface {
	Info(format string, args ...any)
	Warning(format string, args ...any)
}

// Policy decides on recipients; *policy.Checker implements it.
type Policy interface {
	// CheckRecipient applies the RCPT-time restrictions.
	CheckRecipient(s policy.Session) (policy.Decision, error)
	// ValidateRecipient checks that an address exists (for VRFY).
	ValidateRecipient(rcpt addr.Address) (policy.Decision, error)
}

// Server serves SMTP sessions. All fields but LookupName must be set.
type Server struct {
	Settings *Settings
	Policy   Policy
	Log      Logger
	// DialCleanup connects to the cleanup service ("private/cleanup").
	DialCleanup func(ctx context.Context) (*ipc.Conn, error)
	// LookupName returns the verified host name of a client address, or
	// "unknown"; nil means DNS (and /etc/hosts) with a forward check.
	LookupName func(ctx context.Context, ip string) string
	// SASL is the Dovecot auth client; nil when AUTH is off.
	SASL SASLClient
}

// Serve runs one SMTP session on conn until the client quits, the session
// fails, or ctx is cancelled. It does not close conn.
func (srv *Server) Serve(ctx context.Context, conn net.Conn) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	s := newSession(ctx, srv, conn)
	s.run()
}

// clientIdentity returns the client's address, port and name.
func (srv *Server) clientIdentity(ctx context.Context, conn net.Conn) (ip, port, name string) {
	host, port, err := net.SplitHostPort(conn.RemoteAddr().String())
	if err != nil || host == "" {
		// A Unix-domain client (tests, local proxies).
		return "127.0.0.1", "", "localhost"
	}
	if !srv.Settings.PeernameLookup {
		return host, port, "unknown"
	}
	lookup := srv.LookupName
	if lookup == nil {
		lookup = lookupVerifiedName
	}
	return host, port, lookup(ctx, host)
}

// lookupVerifiedName does Postfix's reverse lookup: the PTR name counts
// only when it resolves back to the client address; else "unknown".
func lookupVerifiedName(ctx context.Context, ip string) string {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	names, err := net.DefaultResolver.LookupAddr(ctx, ip)
	if err != nil || len(names) == 0 {
		return "unknown"
	}
	name := strings.TrimSuffix(names[0], ".")
	addrs, err := net.DefaultResolver.LookupHost(ctx, name)
	if err != nil {
		return "unknown"
	}
	for _, a := range addrs {
		if a == ip {
			return name
		}
	}
	return "unknown"
}
