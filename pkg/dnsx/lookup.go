// General lookups for smtpd's restrictions: any record type with
// Postfix's three outcomes (found, not found, try again), and reverse
// (PTR) lookups of client addresses.

package dnsx

import (
	"context"
	"net/netip"
	"strings"

	"github.com/miekg/dns"
)

// Status is how a lookup ended, as Postfix's DNS_OK, DNS_NOTFOUND and
// DNS_RETRY.
type Status int

// The lookup outcomes. NotFound covers both NXDOMAIN and a name without
// records of the type asked for.
const (
	Found Status = iota
	NotFound
	Retry
)

// Lookup asks for qtype records of name and returns those of that type
// (CNAMEs followed by the server are skipped).
func (r *Resolver) Lookup(ctx context.Context, name string, qtype uint16) ([]dns.RR, Status) {
	rrs, out := r.query(ctx, name, qtype)
	switch out {
	case nxDomain, noData:
		return nil, NotFound
	case tryAgain:
		return nil, Retry
	}
	var typed []dns.RR
	for _, rr := range rrs {
		if rr.Header().Rrtype == qtype {
			typed = append(typed, rr)
		}
	}
	if len(typed) == 0 {
		return nil, NotFound
	}
	return typed, Found
}

// ReverseName is the in-addr.arpa or ip6.arpa name of an address.
func ReverseName(ip netip.Addr) string {
	name, _ := dns.ReverseAddr(ip.Unmap().String())
	return name
}

// LookupPTR returns the host names of an address, without the final dot.
func (r *Resolver) LookupPTR(ctx context.Context, ip netip.Addr) ([]string, Status) {
	rrs, st := r.Lookup(ctx, ReverseName(ip), dns.TypePTR)
	var names []string
	for _, rr := range rrs {
		names = append(names, strings.TrimSuffix(rr.(*dns.PTR).Ptr, "."))
	}
	return names, st
}

// LookupHostAddrs returns the A and AAAA addresses of a host name, with
// Retry when any query failed and nothing was found.
func (r *Resolver) LookupHostAddrs(ctx context.Context, host string) ([]netip.Addr, Status) {
	var addrs []netip.Addr
	status := NotFound
	for _, qt := range r.addressTypes() {
		rrs, st := r.Lookup(ctx, host, qt)
		if st == Retry {
			status = Retry
		}
		addrs = append(addrs, addressesOf(rrs)...)
	}
	if len(addrs) > 0 {
		return addrs, Found
	}
	return nil, status
}
