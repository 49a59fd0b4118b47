// Package smtpclient delivers a queued message to the mail exchangers of a
// nexthop over SMTP, as Postfix's smtp(8) does, and reports one verdict per
// recipient.
package smtpclient

import (
	"context"
	"crypto/x509"
	"io"
	"net/netip"
	"strings"
	"time"

	"github.com/postern/postern/pkg/dnsx"
	"github.com/postern/postern/pkg/dsn"
	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/maillog"
	"github.com/postern/postern/pkg/maps"
	"github.com/postern/postern/pkg/match"
)

// Config is what the client needs from main.cf.
type Config struct {
	// LMTP is true for the lmtp service: LHLO instead of EHLO, one reply
	// per recipient after DATA, "unix:path" and "inet:host:port" next
	// hops, and no MX lookups.
	LMTP bool
	// SendXForward is smtp_send_xforward_command (lmtp_...).
	SendXForward bool   `param:"smtp_send_xforward_command"`
	MyHostname   string `param:"myhostname"`
	HeloName     string `param:"smtp_helo_name"`
	// OwnAddrs are this host's addresses, for loop detection.
	OwnAddrs []netip.Addr
	// Port is smtp_tcp_port as a number, used when a nexthop has none.
	Port string
	// Resolver answers MX and address queries; nil means nexthops must be
	// IP addresses (disable_dns_lookups).
	Resolver *dnsx.Resolver

	ConnectTimeout time.Duration `param:"smtp_connect_timeout"`
	CommandTimeout time.Duration `param:"smtp_helo_timeout"` // also MAIL, RCPT
	DataTimeout    time.Duration `param:"smtp_data_done_timeout"`
	// SkipQuitResponse is smtp_skip_quit_response: QUIT's reply is not
	// waited for.
	SkipQuitResponse bool `param:"smtp_skip_quit_response"`

	TLS  TLSPolicy
	SASL SASLPolicy

	// Generic is smtp_generic_maps; nil when empty.
	Generic *GenericMaps

	// FallbackRelay is smtp_fallback_relay: destinations tried after
	// those of the nexthop failed.
	FallbackRelay []string `param:"smtp_fallback_relay"`

	// Reuse lets qmgr turn on connection caching for a destination
	// with a backlog (smtp_connection_cache_on_demand);
	// CacheDestinations are cached always
	// (smtp_connection_cache_destinations). A cached connection is idle
	// for at most CacheIdleLimit (smtp_connection_cache_time_limit), in
	// use for at most ReuseTimeLimit (smtp_connection_reuse_time_limit)
	// and ReuseCountLimit deliveries (smtp_connection_reuse_count_limit,
	// 0 = no limit).
	Reuse             bool `param:"smtp_connection_cache_on_demand"`
	CacheDestinations *match.DomainList
	CacheIdleLimit    time.Duration `param:"smtp_connection_cache_time_limit"`
	ReuseTimeLimit    time.Duration `param:"smtp_connection_reuse_time_limit"`
	ReuseCountLimit   int           `param:"smtp_connection_reuse_count_limit"`

	// Notify is what the postmaster's transcripts need (notify.go);
	// PostNotice submits them, nil for none.
	Notify     dsn.NotifySettings
	PostNotice PostNoticeFunc

	Log *maillog.Logger
}

// TLSPolicy is the smtp_tls_* settings.
type TLSPolicy struct {
	// Level is smtp_tls_security_level: none, may, encrypt, verify or
	// secure ("" means none).
	Level string `param:"smtp_tls_security_level"`
	// RootCAs are the trust anchors from smtp_tls_CAfile and
	// smtp_tls_CApath; nil means the system's.
	RootCAs *x509.CertPool
	// LogLevel is smtp_tls_loglevel: 1 and up logs the TLS summary line.
	LogLevel int `param:"smtp_tls_loglevel"`
	TLSChoices
}

// SASLPolicy is the smtp_sasl_* settings.
type SASLPolicy struct {
	Enable bool `param:"smtp_sasl_auth_enable"`
	// Passwords is smtp_sasl_password_maps: "user:password" by nexthop or
	// host name.
	Passwords []maps.Table
	// Options and TLSOptions are smtp_sasl_security_options and
	// smtp_sasl_tls_security_options.
	Options    []string `param:"smtp_sasl_security_options"`
	TLSOptions []string `param:"smtp_sasl_tls_security_options"`
}

// Message is one delivery request's message.
type Message struct {
	QueueID string
	Sender  string
	// Size is the content size for the SIZE= parameter.
	Size     int64
	BodyType string
	// DSNEnvID and DSNRet are passed on as ENVID= and RET= to servers
	// that offer DSN.
	DSNEnvID string
	DSNRet   ipc.DSNRet
	// SMTPUTF8 asks for the SMTPUTF8 parameter when the server offers it.
	SMTPUTF8 bool
	// VerifyOnly is an address verification probe: the session ends after
	// RCPT, and an accepted recipient counts as sent.
	VerifyOnly bool
	Recipients []ipc.Recipient
	// Open returns the message content with LF line ends, afresh for
	// each attempt.
	Open func() (io.ReadCloser, error)
	// CacheLoad and CacheStore are qmgr's on-demand connection caching
	// flags: take a cached connection, cache the one used.
	CacheLoad, CacheStore bool
	// XForward is the original client, sent with XFORWARD when
	// SendXForward is on and the server offers it; nil for none.
	XForward *XForward
}

// Client delivers messages.
type Client struct {
	cfg   Config
	cache *connCache // nil without Reuse and CacheDestinations
	// notifyMask is the set of error classes notify_classes names.
	notifyMask int
}

// New returns a client with cfg.
func New(cfg Config) *Client {
	if cfg.HeloName == "" {
		cfg.HeloName = cfg.MyHostname
	}
	if cfg.Port == "" {
		cfg.Port = "25"
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = 30 * time.Second
	}
	if cfg.CommandTimeout == 0 {
		cfg.CommandTimeout = 300 * time.Second
	}
	if cfg.DataTimeout == 0 {
		cfg.DataTimeout = 600 * time.Second
	}
	if cfg.CacheIdleLimit == 0 {
		cfg.CacheIdleLimit = 2 * time.Second
	}
	if cfg.ReuseTimeLimit == 0 {
		cfg.ReuseTimeLimit = 300 * time.Second
	}
	cfg.TLS.setDefaults()
	c := &Client{cfg: cfg, notifyMask: cfg.Notify.Mask()}
	if cfg.Reuse || cfg.CacheDestinations != nil {
		c.cache = newConnCache(cfg.CacheIdleLimit, cfg.ReuseTimeLimit, cfg.ReuseCountLimit)
	}
	return c
}

func (c *Client) isOwnAddr(a netip.Addr) bool {
	for _, own := range c.cfg.OwnAddrs {
		if own == a.Unmap() {
			return true
		}
	}
	return false
}

func (c *Client) isMyHostname(name string) bool {
	return c.cfg.MyHostname != "" && strings.EqualFold(strings.TrimSuffix(name, "."), c.cfg.MyHostname)
}

func (c *Client) infof(format string, args ...any) {
	if c.cfg.Log != nil {
		c.cfg.Log.Info(format, args...)
	}
}

func (c *Client) warnf(format string, args ...any) {
	if c.cfg.Log != nil {
		c.cfg.Log.Warning(format, args...)
	}
}

// verdict is the outcome for a set of recipients.
type verdict struct {
	status ipc.DeliveryStatus
	dsn    string
	text   string
}

func deferred(dsn, text string) verdict { return verdict{ipc.StatusDeferred, dsn, text} }
func bounced(dsn, text string) verdict  { return verdict{ipc.StatusBounced, dsn, text} }

// Deliver sends msg to nexthop and returns one result per recipient, in
// order. started is when the delivery agent received the request, the
// start of the connection-setup delay.
func (c *Client) Deliver(ctx context.Context, nexthop string, msg *Message, started time.Time) []ipc.RecipientResult {
	results := make([]ipc.RecipientResult, len(msg.Recipients))
	for i, rcpt := range msg.Recipients {
		results[i] = ipc.RecipientResult{Offset: rcpt.Offset, Address: rcpt.Address, Relay: "none"}
	}
	if c.cfg.Generic != nil {
		mapped, err := c.cfg.Generic.genericMessage(msg)
		if err != nil {
			c.warnf("%s: %v", msg.QueueID, err)
			for i := range results {
				r := &results[i]
				r.Status, r.DSNCode, r.Reply = ipc.StatusDeferred, "4.3.0", "smtp_generic_maps map lookup problem"
				r.ConnSetup = time.Since(started)
			}
			return results
		}
		msg = mapped
	}
	d := &delivery{client: c, msg: msg, results: results, started: started, nexthop: nexthop}
	final := d.run(ctx, nexthop)
	for i := range results {
		if results[i].Status == 0 {
			d.settle(i, final)
			if d.lastRelay != "" {
				results[i].Relay = d.lastRelay
			}
			results[i].ConnSetup = time.Since(started)
		}
	}
	return results
}
