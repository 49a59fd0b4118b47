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
	d.cacheLoad = load
	if load || store {
		d.cacheKey = dest
	}
	d.cacheStore = store
}

// reuse delivers over a connection cached under the request's first
// destination, if the policy allows and there is one. done is false when
// there was none, or when it turned out to be dead before any recipient
// got a verdict.
func (d *delivery) reuse(ctx context.Context) (verdict, bool) {
	if !d.cacheLoad || d.cacheKey == "" {
		return verdict{}, false
	}
	p := d.client.cache.take(d.cacheKey)
	if p == nil {
		return verdict{}, false
	}
	s := p.s
	s.delivery, s.uses, s.setupDone = d, p.uses, time.Now()
	s.lastRelay = s.target.relay()
	stop := context.AfterFunc(ctx, s.close)
	defer stop()
	v, err := s.transaction()
	var se *sessionError
	if errors.As(err, &se) {
		s.close()
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

// storeKey returns the key under which the session that just completed
// may be cached, "" for none: a new session when the policy stores, a
// session taken from the cache always. Only the first good session of a
// request is cached, so that a less preferred server does not stand for
// the destination.
func (d *delivery) storeKey(reused bool) string {
	key := ""
	if d.cacheStore || reused {
		key = d.cacheKey
	}
	d.cacheStore, d.cacheKey = false, ""
	return key
}

// destinationHost is the host or domain of a destination, without
// brackets and port, as smtp_connection_cache_destinations lists them.
func destinationHost(dest string) (string, bool) {
	d, ok := resolve.ParseDestination(dest)
	return d.Host, ok
}
