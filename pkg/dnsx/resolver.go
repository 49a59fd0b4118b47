// Package dnsx looks up MX and address records for the smtp client on
// github.com/miekg/dns, with Postfix's ordering and failure texts.
package dnsx

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// Resolver sends queries to a fixed list of name servers, tried in order.
type Resolver struct {
	// Servers are "host:port" name server addresses.
	Servers []string
	// Timeout bounds each query to one server.
	Timeout time.Duration
	// IPv4 and IPv6 select the address families looked up
	// (inet_protocols).
	IPv4, IPv6 bool
	// Shuffle reorders MX hosts of equal preference; rand.Shuffle when nil.
	Shuffle func(n int, swap func(i, j int))
}

// SetProtocols selects the address families from inet_protocols values
// (all, ipv4, ipv6); it reports the first value it does not know, after
// applying the others.
func (r *Resolver) SetProtocols(protocols []string) error {
	r.IPv4, r.IPv6 = false, false
	var bad error
	for _, p := range protocols {
		switch strings.ToLower(p) {
		case "all":
			r.IPv4, r.IPv6 = true, true
		case "ipv4":
			r.IPv4 = true
		case "ipv6":
			r.IPv6 = true
		default:
			if bad == nil {
				bad = fmt.Errorf("bad inet_protocols value: %s", p)
			}
		}
	}
	return bad
}

// New returns a resolver for servers that looks up both address families.
func New(servers []string) *Resolver {
	return &Resolver{Servers: servers, Timeout: 5 * time.Second, IPv4: true, IPv6: true}
}

// ServersFromResolvConf reads the name servers of a resolv.conf file as
// "host:port" addresses.
func ServersFromResolvConf(path string) ([]string, error) {
	cc, err := dns.ClientConfigFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	servers := make([]string, 0, len(cc.Servers))
	for _, s := range cc.Servers {
		servers = append(servers, net.JoinHostPort(s, cc.Port))
	}
	if len(servers) == 0 {
		return nil, fmt.Errorf("%s: no nameserver lines", path)
	}
	return servers, nil
}

// ParseServers parses the dns_servers list: "host:port" items, or bare
// addresses that get port 53.
func ParseServers(items []string) ([]string, error) {
	servers := make([]string, 0, len(items))
	for _, item := range items {
		if _, _, err := net.SplitHostPort(item); err == nil {
			servers = append(servers, item)
			continue
		}
		addr, err := netip.ParseAddr(strings.Trim(item, "[]"))
		if err != nil {
			return nil, fmt.Errorf("dns_servers: bad server address %q", item)
		}
		servers = append(servers, net.JoinHostPort(addr.String(), "53"))
	}
	return servers, nil
}

// outcome classifies the answer to one query.
type outcome int

const (
	answered outcome = iota
	noData
	nxDomain
	tryAgain
)

// query asks each server in turn for qtype records of name and returns the
// answer section of the first conclusive reply.
func (r *Resolver) query(ctx context.Context, name string, qtype uint16) ([]dns.RR, outcome) {
	msg := new(dns.Msg)
	msg.SetQuestion(dns.Fqdn(name), qtype)
	msg.RecursionDesired = true
	client := &dns.Client{Timeout: r.Timeout}
	for _, server := range r.Servers {
		reply, _, err := client.ExchangeContext(ctx, msg, server)
		if err != nil || reply == nil {
			continue
		}
		if reply.Truncated {
			tcp := &dns.Client{Net: "tcp", Timeout: r.Timeout}
			if full, _, err := tcp.ExchangeContext(ctx, msg, server); err == nil && full != nil {
				reply = full
			}
		}
		switch reply.Rcode {
		case dns.RcodeSuccess:
			if len(reply.Answer) == 0 {
				return nil, noData
			}
			return reply.Answer, answered
		case dns.RcodeNameError:
			return nil, nxDomain
		}
	}
	return nil, tryAgain
}

// LookupAddrs returns the addresses of host (A before AAAA, per the
// enabled families), or an *Error worded for type=A/AAAA.
func (r *Resolver) LookupAddrs(ctx context.Context, host string) ([]netip.Addr, error) {
	if addr, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{addr}, nil
	}
	var addrs []netip.Addr
	var failure *Error
	for _, qt := range r.addressTypes() {
		rrs, out := r.query(ctx, host, qt)
		switch out {
		case answered:
			addrs = append(addrs, addressesOf(rrs)...)
		case nxDomain:
			return nil, nameServiceError(host, dns.TypeToString[qt], false, reasonNotFound)
		case tryAgain:
			failure = nameServiceError(host, dns.TypeToString[qt], true, reasonTryAgain)
		case noData:
			if failure == nil {
				failure = nameServiceError(host, dns.TypeToString[qt], false, reasonNoData)
			}
		}
	}
	if len(addrs) > 0 {
		return addrs, nil
	}
	return nil, failure
}

func (r *Resolver) addressTypes() []uint16 {
	var types []uint16
	if r.IPv4 {
		types = append(types, dns.TypeA)
	}
	if r.IPv6 {
		types = append(types, dns.TypeAAAA)
	}
	return types
}

func addressesOf(rrs []dns.RR) []netip.Addr {
	var addrs []netip.Addr
	for _, rr := range rrs {
		var ip net.IP
		switch v := rr.(type) {
		case *dns.A:
			ip = v.A
		case *dns.AAAA:
			ip = v.AAAA
		default:
			continue
		}
		if addr, ok := netip.AddrFromSlice(ip); ok {
			addrs = append(addrs, addr.Unmap())
		}
	}
	return addrs
}
