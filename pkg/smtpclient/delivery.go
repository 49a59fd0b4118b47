// One delivery attempt: nexthops, mail exchangers and their addresses in
// order, until a session reaches a verdict for every recipient.

package smtpclient

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/postern/postern/pkg/dnsx"
	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/resolve"
)

// delivery is the state of one Deliver call.
type delivery struct {
	client  *Client
	msg     *Message
	results []ipc.RecipientResult
	started time.Time
	nexthop string
	// lastRelay is the last server a connection was made to, the relay=
	// of recipients settled by the final verdict.
	lastRelay string
	// cacheKey is the destination a session may be cached under ("" =
	// none); cacheLoad allows taking a cached one, cacheStore caching
	// a new one (see cachePolicy).
	cacheKey              string
	cacheLoad, cacheStore bool
}

// target is one address of one mail exchanger.
type target struct {
	host     string // the exchanger's name
	addr     netip.Addr
	port     string
	path     string // a UNIX-domain socket (LMTP), instead of addr and port
	nexthop  string // the nexthop as given, for password lookups
	destHost string // the nexthop's host or domain
}

func (t target) relay() string {
	if t.path != "" {
		return t.hostAddr()
	}
	return fmt.Sprintf("%s[%s]:%s", t.host, t.addr, t.port)
}

func (t target) hostAddr() string {
	if t.path != "" {
		return fmt.Sprintf("%s[%s]", t.host, t.path)
	}
	return fmt.Sprintf("%s[%s]", t.host, t.addr)
}

// dial connects to t.
func (t target) dial(ctx context.Context, timeout time.Duration) (net.Conn, error) {
	dialer := net.Dialer{Timeout: timeout}
	if t.path != "" {
		return dialer.DialContext(ctx, "unix", t.path)
	}
	return dialer.DialContext(ctx, "tcp", net.JoinHostPort(t.addr.String(), t.port))
}

// endpoint is t's address and port, or socket path: the key of its
// cached connections.
func (t target) endpoint() string {
	if t.path != "" {
		return t.path
	}
	return net.JoinHostPort(t.addr.String(), t.port)
}

// where names t in a connection failure: "host[addr]:port" or, for a
// socket, "host[path]".
func (t target) where() string {
	if t.path != "" {
		return t.hostAddr()
	}
	return t.hostAddr() + ":" + t.port
}

// settle records the verdict for recipient i.
func (d *delivery) settle(i int, v verdict) {
	r := &d.results[i]
	r.Status, r.DSNCode, r.Reply = v.status, v.dsn, v.text
}

// pending reports whether some recipient has no verdict yet.
func (d *delivery) pending() bool {
	for _, r := range d.results {
		if r.Status == 0 {
			return true
		}
	}
	return false
}

// run tries each destination of nexthop, then the fallback relays, and
// returns the verdict for the recipients left without one. A destination
// for which this host is a mail exchanger, or whose mail loops back here,
// is the last one tried.
func (d *delivery) run(ctx context.Context, nexthop string) verdict {
	sites := resolve.SplitNexthops(nexthop)
	primary := len(sites)
	if !d.client.cfg.LMTP {
		sites = append(sites, d.client.cfg.FallbackRelay...)
	}
	final := deferred("4.3.0", "mail transport unavailable")
	tried := 0 // the index of the destination that gave final
	for i, dest := range sites {
		tried = i
		targets, v, ok, last := d.client.targets(ctx, dest)
		if !ok {
			final = v
			if last {
				break
			}
			continue
		}
		if i == 0 {
			d.cachePolicy(dest)
			if v, done := d.reuse(ctx); done {
				return v
			}
		}
		for _, t := range targets {
			v, done := d.attempt(ctx, t)
			final = v
			if done || !d.pending() {
				return final
			}
		}
		if last {
			break
		}
	}
	if final.status == ipc.StatusBounced && tried >= primary {
		// The fallback relay did not resolve or refused to talk: a
		// configuration problem, not the recipient's.
		d.client.warnf("smtp_fallback_relay configuration problem")
		final.status, final.dsn = ipc.StatusDeferred, "4.3.5"
	}
	return final
}

// lookupVerdict turns a failed next-hop lookup into the recipients'
// verdict: the DNS error's own status, or a deferral for anything else.
func lookupVerdict(err error) verdict {
	var e *dnsx.Error
	if errors.As(err, &e) {
		if e.Temporary {
			return deferred(e.DSN, e.Text)
		}
		return bounced(e.DSN, e.Text)
	}
	return deferred("4.4.3", err.Error())
}

// targets resolves one destination to the addresses to try, or the
// verdict when there are none. last is true when no later destination
// may be tried: this host is one of the destination's mail exchangers,
// or its mail loops back here.
func (c *Client) targets(ctx context.Context, dest string) (targets []target, v verdict, ok, last bool) {
	if c.cfg.LMTP {
		targets, v, ok = c.lmtpTargets(ctx, dest)
		return targets, v, ok, false
	}
	d, ok := resolve.ParseDestination(dest)
	if !ok {
		return nil, bounced("5.3.5", fmt.Sprintf("bad nexthop destination %q", dest)), false, false
	}
	port := d.Port
	if port == "" {
		port = c.cfg.Port
	}
	hosts, err := c.lookup(ctx, d)
	if err != nil {
		return nil, lookupVerdict(err), false, false
	}
	if port == "25" {
		hosts, last = c.truncateSelf(hosts)
		if last && len(hosts) == 0 {
			return nil, bounced("5.4.6", fmt.Sprintf("mail for %s loops back to myself", d.Host)), false, true
		}
		if last && !anyAddresses(hosts) {
			return nil, deferred("4.4.4", fmt.Sprintf("unable to find primary relay for %s", d.Host)), false, true
		}
	}
	for _, h := range hosts {
		for _, a := range h.Addrs {
			targets = append(targets, target{host: h.Name, addr: a, port: port, nexthop: dest, destHost: d.Host})
		}
	}
	return targets, verdict{}, true, last
}

func (c *Client) lookup(ctx context.Context, d resolve.Destination) ([]dnsx.Host, error) {
	if addr, err := netip.ParseAddr(d.Host); err == nil {
		return []dnsx.Host{{Name: addr.String(), Addrs: []netip.Addr{addr}}}, nil
	}
	if c.cfg.Resolver == nil {
		addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", d.Host)
		if err != nil {
			return nil, &dnsx.Error{Temporary: true, DSN: "4.4.3", Text: fmt.Sprintf("Host or domain name not found. Name service error for name=%s type=A: Host not found, try again", d.Host)}
		}
		return []dnsx.Host{{Name: d.Host, Addrs: addrs}}, nil
	}
	if d.NoMX {
		return c.cfg.Resolver.LookupHost(ctx, d.Host)
	}
	return c.cfg.Resolver.LookupMX(ctx, d.Host)
}

// truncateSelf drops this host and every worse exchanger from an MX
// list; self is true when this host was in it.
func (c *Client) truncateSelf(hosts []dnsx.Host) (better []dnsx.Host, self bool) {
	for i, h := range hosts {
		self := c.isMyHostname(h.Name)
		for _, a := range h.Addrs {
			self = self || c.isOwnAddr(a)
		}
		if self {
			return hosts[:i], true
		}
	}
	return hosts, false
}

// anyAddresses reports whether some host has an address to try.
func anyAddresses(hosts []dnsx.Host) bool {
	for _, h := range hosts {
		if len(h.Addrs) > 0 {
			return true
		}
	}
	return false
}

// attempt runs one session with t. done is true when the next address
// must not be tried.
func (d *delivery) attempt(ctx context.Context, t target) (verdict, bool) {
	if v, done := d.reuseEndpoint(ctx, t); done {
		return v, true
	}
	nc, err := t.dial(ctx, d.client.cfg.ConnectTimeout)
	if err != nil {
		text := fmt.Sprintf("connect to %s: %s", t.where(), connectReason(err))
		d.client.infof("%s", text)
		return deferred("4.4.1", text), false
	}
	s := &session{delivery: d, target: t, nc: nc, opened: time.Now()}
	s.startChat()
	v, done := s.run(ctx)
	if s.parked {
		return v, done
	}
	s.close()
	s.release()
	s.notifyPostmaster()
	if !s.retryPlain {
		return v, done
	}
	nc, err = t.dial(ctx, d.client.cfg.ConnectTimeout)
	if err != nil {
		text := fmt.Sprintf("connect to %s: %s", t.where(), connectReason(err))
		d.client.infof("%s", text)
		return deferred("4.4.1", text), false
	}
	s = &session{delivery: d, target: t, nc: nc, noTLS: true, opened: time.Now()}
	s.startChat()
	v, done = s.run(ctx)
	if !s.parked {
		s.close()
		s.release()
		s.notifyPostmaster()
	}
	return v, done
}

// anySettled reports whether some recipient has a verdict.
func (d *delivery) anySettled() bool {
	for _, r := range d.results {
		if r.Status != 0 {
			return true
		}
	}
	return false
}
