// DNS-based restrictions on names: reject_unknown_helo_hostname,
// reject_unknown_sender_domain, reject_unknown_recipient_domain and the
// check_*_mx_access, check_*_ns_access and check_*_a_access tables.

package policy

import (
	"context"
	"fmt"
	"net/netip"
	"strings"

	"github.com/miekg/dns"
	"github.com/postern/postern/pkg/config"
	"github.com/postern/postern/pkg/dnsx"
	"github.com/postern/postern/pkg/maps"
)

// ResolvConf is where the name servers come from when dns_servers is empty.
var ResolvConf = "/etc/resolv.conf"

// dnsResolver makes the resolver of dns_servers, else of resolv.conf.
func dnsResolver(cfg *config.Config) (*dnsx.Resolver, error) {
	var p struct {
		Servers   []string `param:"dns_servers"`
		Protocols []string `param:"inet_protocols"`
	}
	if err := cfg.Fill(&p); err != nil {
		return nil, err
	}
	var servers []string
	var err error
	if len(p.Servers) > 0 {
		if servers, err = dnsx.ParseServers(p.Servers); err != nil {
			return nil, err
		}
	} else if servers, err = dnsx.ServersFromResolvConf(ResolvConf); err != nil {
		servers = nil // every lookup will fail temporarily
	}
	r := dnsx.New(servers)
	// master refuses a bad inet_protocols; the known values still apply.
	_ = r.SetProtocols(p.Protocols)
	return r, nil
}

// lookup asks the resolver, bounded by its timeout per server.
func (c *Checker) lookup(name string, qtype uint16) ([]dns.RR, dnsx.Status) {
	return c.dns.Lookup(context.Background(), name, qtype)
}

// lookupAny tries the types in order and stops at the first found; the
// status is Retry when nothing was found and a query failed.
func (c *Checker) lookupAny(name string, types ...uint16) ([]dns.RR, dnsx.Status) {
	status := dnsx.NotFound
	for _, qt := range types {
		rrs, st := c.lookup(name, qt)
		switch st {
		case dnsx.Found:
			return rrs, st
		case dnsx.Retry:
			status = dnsx.Retry
		}
	}
	return nil, status
}

// tempfail applies a *_tempfail_action: defer_if_permit (the default)
// keeps the reply for later, defer replies at once.
func (e *evaluation) tempfail(action string, d Decision) Decision {
	if action == "defer" {
		return d
	}
	return e.deferIfPermit(d)
}

// unknownHelo implements reject_unknown_helo_hostname: the name needs an
// A, AAAA or MX record.
func (e *evaluation) unknownHelo() Decision {
	ctx := replyContext{name: e.s.Helo, class: classHelo}
	if strings.HasPrefix(e.s.Helo, "[") {
		return e.invalidHostaddr(ctx)
	}
	_, st := e.c.lookupAny(e.s.Helo, dns.TypeA, dns.TypeAAAA, dns.TypeMX)
	switch st {
	case dnsx.NotFound:
		return reject(e.c.set.UnknownHostnameCode, "4.7.1", ctx, "Host not found")
	case dnsx.Retry:
		return e.tempfail(e.c.set.UnknownHeloTempfail, reject(450, "4.7.1", ctx, "Host not found"))
	}
	return Decision{}
}

// unknownAddress implements reject_unknown_sender_domain and
// reject_unknown_recipient_domain: a domain that is not final here needs
// an MX, A or AAAA record, and must not publish a null MX.
func (e *evaluation) unknownAddress(address string, ctx replyContext) Decision {
	res, err := e.c.resolver.Resolve(address)
	if err != nil {
		e.c.warn(err.Error())
		return tempFailure(address)
	}
	domain := res.Address.Domain
	if domain == "" || res.Class.Final() || strings.HasPrefix(domain, "[") {
		return Decision{}
	}
	sender := ctx.class == classSender
	dsn := "4.1.2"
	if sender {
		dsn = "4.1.8"
	}
	rrs, st := e.c.lookup(domain, dns.TypeMX)
	if st == dnsx.Found {
		for _, rr := range rrs {
			if mx, ok := rr.(*dns.MX); ok && mx.Mx == "." && len(rrs) == 1 {
				code, nullDSN := 556, "4.1.10"
				if sender {
					code, nullDSN = 550, "4.7.27"
				}
				return reject(code, nullDSN, ctx, fmt.Sprintf("Domain %s does not accept mail (nullMX)", domain))
			}
		}
		return Decision{}
	}
	mxStatus := st
	if _, st = e.c.lookupAny(domain, dns.TypeA, dns.TypeAAAA); st == dnsx.Found {
		return Decision{}
	}
	if st == dnsx.Retry || mxStatus == dnsx.Retry {
		return e.tempfail(e.c.set.UnknownAddrTempfail, reject(450, dsn, ctx, "Domain not found"))
	}
	return reject(e.c.set.UnknownAddressCode, dsn, ctx, "Domain not found")
}

// serverType maps check_*_mx_access and the like to the record type.
func serverType(name string) uint16 {
	switch {
	case strings.HasSuffix(name, "_mx_access"):
		return dns.TypeMX
	case strings.HasSuffix(name, "_ns_access"):
		return dns.TypeNS
	}
	return dns.TypeA
}

// serverAccess implements check_*_{mx,ns,a}_access: the table is queried
// with the names (MX, NS) and addresses of the domain's mail exchangers,
// name servers or the host itself. An OK result is not allowed.
func (e *evaluation) serverAccess(t maps.Table, name string, qtype uint16, ctx replyContext) Decision {
	d := e.serverAccessResult(t, name, qtype, ctx)
	if d.Action == Permit && !e.s.Discard {
		e.c.warn(fmt.Sprintf("restriction check_%s_access returns OK for %s", strings.ToLower(dns.TypeToString[qtype]), name))
		e.c.warn("this is not allowed for security reasons")
		e.c.warn("use DUNNO instead of OK if you want to make an exception")
		return serverConfigError
	}
	return d
}

func (e *evaluation) serverAccessResult(t maps.Table, name string, qtype uint16, ctx replyContext) Decision {
	domain := name
	if at := strings.LastIndexByte(name, '@'); at >= 0 {
		domain = name[at+1:]
	}
	if strings.HasPrefix(domain, "[") {
		if qtype == dns.TypeNS {
			return Decision{}
		}
		ip, ok := parseBareLiteral(domain)
		if !ok {
			return Decision{}
		}
		d, _ := e.checkAccessFound(t, addrKeys(ip.String()), ctx)
		return d
	}
	var hosts []string
	if qtype == dns.TypeA {
		hosts = []string{domain}
	} else {
		rrs, st := e.c.lookup(domain, qtype)
		for st == dnsx.NotFound && qtype == dns.TypeNS {
			dot := strings.IndexByte(domain, '.')
			if dot < 0 || dot == len(domain)-1 {
				break
			}
			domain = domain[dot+1:]
			rrs, st = e.c.lookup(domain, qtype)
		}
		if st == dnsx.NotFound && qtype == dns.TypeMX {
			hosts, st = []string{domain}, dnsx.Found
		}
		if st != dnsx.Found && hosts == nil {
			e.c.warn(fmt.Sprintf("Unable to look up %s host for %s: %s", dns.TypeToString[qtype], domain, statusText(st)))
			return Decision{}
		}
		for _, rr := range rrs {
			switch v := rr.(type) {
			case *dns.MX:
				if v.Mx == "." {
					return Decision{}
				}
				hosts = append(hosts, strings.TrimSuffix(v.Mx, "."))
			case *dns.NS:
				hosts = append(hosts, strings.TrimSuffix(v.Ns, "."))
			}
		}
	}
	for _, host := range hosts {
		if validHostAddr(host) {
			if d, found := e.checkAccessFound(t, addrKeys(host), ctx); found || d.Action != Dunno {
				return d
			}
			continue
		}
		if qtype != dns.TypeA {
			if d, found := e.checkAccessFound(t, e.domainKeys(host, false), ctx); found || d.Action != Dunno {
				return d
			}
		}
		addrs, st := e.c.dns.LookupHostAddrs(context.Background(), host)
		if st != dnsx.Found {
			if qtype != dns.TypeA {
				e.c.warn(fmt.Sprintf("Unable to look up %s host %s for %s %s: %s", dns.TypeToString[qtype], host, ctx.class, ctx.name, statusText(st)))
			}
			continue
		}
		for _, a := range addrs {
			if d, found := e.checkAccessFound(t, addrKeys(a.String()), ctx); found || d.Action != Dunno {
				return d
			}
		}
	}
	return Decision{}
}

// parseBareLiteral parses "[addr]" or "[IPv6:addr]".
func parseBareLiteral(d string) (netip.Addr, bool) {
	if ip, err := netip.ParseAddr(strings.Trim(d, "[]")); err == nil {
		return ip, true
	}
	inner := strings.Trim(d, "[]")
	if len(inner) > 5 && strings.EqualFold(inner[:5], "IPv6:") {
		if ip, err := netip.ParseAddr(inner[5:]); err == nil {
			return ip, true
		}
	}
	return netip.Addr{}, false
}

// statusText words a failed lookup as Postfix's dns_strerror does.
func statusText(st dnsx.Status) string {
	if st == dnsx.Retry {
		return "Host not found, try again"
	}
	return "Host not found"
}
