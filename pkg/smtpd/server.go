// Server: what an SMTP session needs (settings, policy, cleanup, log) and the client name lookup.

package smtpd

import (
	"context"
	"net"
	"net/netip"
	"time"

	"github.com/postern/postern/pkg/anvil"
	"github.com/postern/postern/pkg/dnsx"
	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/policy"
	"github.com/postern/postern/pkg/resolve"
)

// Logger receives smtpd's log lines; *maillog.Logger implements it.
type Logger interface {
	Info(format string, args ...any)
	Warning(format string, args ...any)
}

// Policy applies the restriction lists; *policy.Checker implements it.
// Each Check method logs its rejections and returns the reply.
type Policy interface {
	// DelayReject is smtpd_delay_reject: client, HELO and sender
	// restrictions wait until RCPT TO.
	DelayReject() bool
	CheckClient(s *policy.Session) policy.Decision
	CheckHelo(s *policy.Session, verb string) policy.Decision
	CheckSender(s *policy.Session) policy.Decision
	CheckRecipient(s *policy.Session) policy.Decision
	CheckData(s *policy.Session) policy.Decision
	CheckEndOfData(s *policy.Session) policy.Decision
	CheckEtrn(s *policy.Session, domain string) policy.Decision
	// CheckVrfy applies the RCPT TO restrictions to VRFY's address.
	CheckVrfy(s *policy.Session) policy.Decision
}

// Server serves SMTP sessions. All fields but LookupName must be set.
type Server struct {
	Settings *Settings
	Policy   Policy
	Log      Logger
	// DialCleanup connects to the cleanup service ("private/cleanup").
	DialCleanup func(ctx context.Context) (*ipc.Conn, error)
	// LookupName looks up the names of a client address; nil means
	// DNS (dns_servers, else the system resolver with /etc/hosts).
	LookupName func(ctx context.Context, ip string) ClientName
	// DNS is the resolver of dns_servers; nil means the system's.
	DNS *dnsx.Resolver
	// SASL is the Dovecot auth client; nil when AUTH is off.
	SASL SASLClient
	// Anvil counts clients across every smtpd process of the service;
	// nil (stand-alone, in-process servers) means no client limits.
	Anvil *anvil.Client
	// Resolver gives the milter macros {mail_host}, {rcpt_mailer}, ...
	// their values; nil means the address's domain and no transport.
	Resolver *resolve.Resolver
	// Service is the master.cf service name, as anvil's counts and the
	// limit warnings name it ("smtp").
	Service string

	cleanupIdle cleanupConns
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

// clientIdentity returns the client's address, port and names.
func (srv *Server) clientIdentity(ctx context.Context, conn net.Conn) (ip, port string, name ClientName) {
	host, port, err := net.SplitHostPort(conn.RemoteAddr().String())
	if err != nil || host == "" {
		// A Unix-domain client (tests, local proxies).
		return "127.0.0.1", "", ClientName{Name: "localhost", Reverse: "localhost"}
	}
	if a, err := netip.ParseAddr(host); err == nil {
		host = a.Unmap().String()
	}
	if !srv.Settings.PeernameLookup {
		return host, port, ClientName{Name: "unknown", Status: policy.PeerPerm, Reverse: "unknown", ReverseStatus: policy.PeerPerm}
	}
	lookup := srv.LookupName
	if lookup == nil {
		lookup = func(ctx context.Context, ip string) ClientName { return srv.lookupClientName(ctx, ip) }
	}
	return host, port, lookup(ctx, host)
}
