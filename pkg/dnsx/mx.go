// MX lookup: the mail exchangers of a domain in delivery order.

package dnsx

import (
	"context"
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// Host is one mail exchanger with its addresses.
type Host struct {
	Name string
	// Pref is the MX preference; 0 for a host used without MX lookup.
	Pref  int
	Addrs []netip.Addr
	// Err is why an MX host has no addresses.
	Err error
	// FromMX is false when the host is the domain itself (no MX records,
	// or a "[host]" nexthop).
	FromMX bool
}

// LookupMX returns the mail exchangers of domain, sorted by preference
// with equal preferences shuffled, each with its addresses. A domain
// without MX records is its own exchanger. An MX host whose addresses
// cannot be found stays in the list without addresses and with Err set;
// when no host has addresses the last failure is returned. Errors are
// *Error values.
func (r *Resolver) LookupMX(ctx context.Context, domain string) ([]Host, error) {
	rrs, out := r.query(ctx, domain, dns.TypeMX)
	switch out {
	case tryAgain:
		return nil, nameServiceError(domain, "MX", true, reasonTryAgain)
	case nxDomain, noData:
		return r.hostOnly(ctx, domain)
	}
	var mxs []*dns.MX
	for _, rr := range rrs {
		if mx, ok := rr.(*dns.MX); ok {
			mxs = append(mxs, mx)
		}
	}
	if len(mxs) == 0 {
		return r.hostOnly(ctx, domain)
	}
	if len(mxs) == 1 && mxs[0].Mx == "." {
		return nil, NullMXError(domain)
	}
	r.order(mxs)
	var hosts []Host
	var lastErr error
	resolved := false
	for _, mx := range mxs {
		name := strings.TrimSuffix(mx.Mx, ".")
		if name == "" {
			continue
		}
		addrs, err := r.LookupAddrs(ctx, name)
		if err != nil {
			lastErr = err
		}
		resolved = resolved || len(addrs) > 0
		hosts = append(hosts, Host{Name: name, Pref: int(mx.Preference), Addrs: addrs, Err: err, FromMX: true})
	}
	if !resolved {
		return nil, lastErr
	}
	return hosts, nil
}

// LookupHost returns host as its own exchanger ("[host]" nexthops).
func (r *Resolver) LookupHost(ctx context.Context, host string) ([]Host, error) {
	return r.hostOnly(ctx, host)
}

func (r *Resolver) hostOnly(ctx context.Context, name string) ([]Host, error) {
	addrs, err := r.LookupAddrs(ctx, name)
	if err != nil {
		return nil, err
	}
	return []Host{{Name: name, Addrs: addrs}}, nil
}

// order sorts by preference and shuffles each run of equal preference.
func (r *Resolver) order(mxs []*dns.MX) {
	slices.SortStableFunc(mxs, func(a, b *dns.MX) int { return int(a.Preference) - int(b.Preference) })
	shuffle := r.Shuffle
	if shuffle == nil {
		shuffle = rand.Shuffle
	}
	for start := 0; start < len(mxs); {
		end := start + 1
		for end < len(mxs) && mxs[end].Preference == mxs[start].Preference {
			end++
		}
		run := mxs[start:end]
		shuffle(len(run), func(i, j int) { run[i], run[j] = run[j], run[i] })
		start = end
	}
}
