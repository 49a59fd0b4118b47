// Which deliveries use the connection cache: destinations listed in
// smtp_connection_cache_destinations always, others when qmgr asks for it
// (smtp_connection_cache_on_demand), as Postfix's smtp(8) decides.

package smtpclient

import (
	"context"
	"errors"
	"time"

	"github.com/postern/postern/pkg/resolve"
)

// cachePolicy decides, for the first destination of the request (dest
// as written, "[host]:port" included), whether this delivery may take a
// cached connection and whether it may cache the one it uses.
func (d *delivery) cachePolicy(dest string) {
	c := d.client
	d.cacheLoad, d.cacheKey = false, ""
	if c.cache == nil {
		return
	}
	load, store := d.msg.CacheLoad, d.msg.CacheStore
	if !c.cfg.Reuse {
		load, store = false, false
	}
	if c.cfg.CacheDestinations != nil {
		if host, ok := destinationHost(dest); ok {
			listed, err := c.cfg.CacheDestinations.Match(host)
			if err != nil {
				c.warnf("smtp_connection_cache_destinations: %v", err)
			}
			if listed {
				load, store = true, true
			}
		}
	}
	d.cacheLoad, d.cacheStore, d.cacheKey = load, store, dest
}

// reuse delivers over a connection cached under the request's first
// destination, if the policy allows and there is one. done is false when
// there was none, or when it turned out to be dead before any recipient
// got a verdict.
func (d *delivery) reuse(ctx context.Context) (verdict, bool) {
	if !d.cacheLoad || d.cacheKey == "" {
		return verdict{}, false
	}
	return d.reuseSession(ctx, d.client.cache.take(d.cacheKey))
}

// reuseEndpoint delivers over a connection cached for t's address, if the
// policy allows and there is one, as reuse does. The key keeps apart
// connections that another request could not use (endpointKey).
func (d *delivery) reuseEndpoint(ctx context.Context, t target) (verdict, bool) {
	if !d.cacheLoad {
		return verdict{}, false
	}
	return d.reuseSession(ctx, d.client.cache.takeEndpoint(d.endpointKey(t)))
}

// endpointKey is the cache key of connections to t: its address and
// port and, as in Postfix's endpoint label, what could make a connection
// to the same server unfit for another request: the next hop and the
// server's name when SASL passwords are looked up by them (the
// connection may be authenticated with that destination's
// credentials), and the next hop when TLS policy maps or a level that
// matches certificates could give another destination another TLS
// policy.
func (d *delivery) endpointKey(t target) string {
	cfg := d.client.cfg
	key := t.endpoint()
	if cfg.SASL.Enable && len(cfg.SASL.Passwords) > 0 {
		key += " sasl:" + t.nexthop + ":" + t.host
	}
	if len(cfg.TLS.PolicyMaps) > 0 || mustMatch(cfg.TLS.Level) {
		key += " tls:" + t.nexthop
	}
	return key
}

// reuseSession delivers over the parked session p (nil: none).
func (d *delivery) reuseSession(ctx context.Context, p *parkedSession) (verdict, bool) {
	if p == nil {
		return verdict{}, false
	}
	s := p.s
	s.delivery, s.uses, s.setupDone, s.aborted = d, p.uses, time.Now(), false
	s.lastRelay = s.target.relay()
	s.startChat()
	stop := context.AfterFunc(ctx, s.close)
	defer stop()
	v, err := s.transaction()
	var se *sessionError
	if errors.As(err, &se) {
		s.close()
		s.notifyPostmaster()
		if !d.anySettled() {
			return verdict{}, false
		}
		v = s.lostConnection(se.stage, se.err)
		s.settlePending(v)
		return v, true
	}
	s.finish()
	return v, true
}

// storeKeys says how the session that just completed may be cached:
// under its endpoint when cacheable (a new session when the policy
// stores, a session taken from the cache always), and also under dest
// ("" for none) as the first good session of the request, so that a
// less preferred server found later does not stand for the destination.
func (d *delivery) storeKeys(reused bool) (dest string, cacheable bool) {
	cacheable = d.cacheStore || reused
	if d.cacheLoad || d.cacheStore {
		dest = d.cacheKey
	}
	d.cacheKey = ""
	return dest, cacheable
}

// destinationHost is the host or domain of a destination, without
// brackets and port, as smtp_connection_cache_destinations lists them.
func destinationHost(dest string) (string, bool) {
	d, ok := resolve.ParseDestination(dest)
	return d.Host, ok
}
