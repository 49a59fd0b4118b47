// permit_mx_backup: accept mail for a domain whose MX records list this
// host as a backup (not a primary) MX, optionally only when every primary
// MX host is inside permit_mx_backup_networks.

package policy

import (
	"context"
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"github.com/miekg/dns"

	"github.com/postern/postern/pkg/dnsx"
	"github.com/postern/postern/pkg/match"
	"github.com/postern/postern/pkg/resolve"
)

// permitMXBackup implements permit_mx_backup. As in Postfix, an
// authorized destination (final or relay_domains) is permitted too; a
// failed DNS lookup never rejects but defers a later reject
// (defer_if_reject).
func (e *evaluation) permitMXBackup(ctx replyContext) Decision {
	res, err := e.resolvedRecipient()
	if err != nil {
		e.c.warn(err.Error())
		return tempFailure(e.s.Recipient.Internal())
	}
	domain := res.Address.Domain
	switch {
	case domain == "":
		return Decision{Action: Permit}
	case !e.c.set.AllowUntrustedRouting && res.Routed:
		return Decision{}
	case res.Class.Final() || res.Class == resolve.ClassRelay:
		return Decision{Action: Permit}
	case strings.HasPrefix(domain, "[") && strings.HasSuffix(domain, "]"):
		return Decision{}
	}
	rrs, st := e.c.lookup(domain, dns.TypeMX)
	if st != dnsx.Found {
		if st == dnsx.Retry {
			e.deferIfReject(reject(450, "4.4.4", ctx, "Unable to look up mail exchanger information: "+statusText(st)))
		}
		return Decision{}
	}
	var mxs []*dns.MX
	for _, rr := range rrs {
		if mx, ok := rr.(*dns.MX); ok {
			mxs = append(mxs, mx)
		}
	}
	if len(mxs) == 0 {
		return Decision{}
	}
	sort.SliceStable(mxs, func(i, j int) bool { return mxs[i].Preference < mxs[j].Preference })
	split := 1
	for split < len(mxs) && mxs[split].Preference == mxs[0].Preference {
		split++
	}
	primaries, backups := mxs[:split], mxs[split:]
	if e.iAmMX(primaries, ctx) || len(backups) == 0 || !e.iAmMX(backups, ctx) {
		return Decision{}
	}
	if e.c.mxBackupNetworks != nil {
		for _, mx := range primaries {
			if !e.allowedPrimary(dns.Fqdn(mx.Mx), ctx) {
				return Decision{}
			}
		}
	}
	return Decision{Action: Permit}
}

// iAmMX reports whether one of the MX hosts is this host: by name first
// (a local domain, as mydestination or an address literal of ours), then
// by address (inet_interfaces and proxy_interfaces).
func (e *evaluation) iAmMX(mxs []*dns.MX, ctx replyContext) bool {
	for _, mx := range mxs {
		if local, err := e.c.resolver.IsLocalDomain(strings.TrimSuffix(mx.Mx, ".")); err == nil && local {
			return true
		}
	}
	mine := e.c.resolver.Settings().LocalAddresses
	for _, mx := range mxs {
		host := strings.TrimSuffix(mx.Mx, ".")
		addrs, st := e.hostAddrs(host)
		if st != dnsx.Found {
			text := "Name or service not known"
			if st == dnsx.Retry {
				text = "Temporary failure in name resolution"
			}
			e.deferIfReject(reject(450, "4.4.4", ctx, fmt.Sprintf("Unable to look up mail exchanger host %s: %s", host, text)))
			continue
		}
		for _, a := range addrs {
			for _, m := range mine {
				if a == m {
					return true
				}
			}
		}
	}
	return false
}

// allowedPrimary reports whether every address of a primary MX host is
// inside permit_mx_backup_networks.
func (e *evaluation) allowedPrimary(host string, ctx replyContext) bool {
	host = strings.TrimSuffix(host, ".")
	addrs, st := e.hostAddrs(host)
	if st != dnsx.Found {
		e.deferIfReject(reject(450, "4.4.4", ctx, fmt.Sprintf("Unable to look up host %s as mail exchanger: %s", host, statusText(st))))
		return false
	}
	for _, a := range addrs {
		ok, err := e.c.mxBackupNetworks.Match(host, a.String())
		if err != nil {
			e.c.warn(fmt.Sprintf("permit_mx_backup: permit_mx_backup_networks lookup error for address %s for %s", a, host))
			e.deferIfReject(reject(450, "4.4.4", ctx, fmt.Sprintf("Unable to verify host %s as mail exchanger", host)))
			return false
		}
		if !ok {
			return false
		}
	}
	return true
}

// hostAddrs looks up a host's addresses of the inet_protocols families.
func (e *evaluation) hostAddrs(host string) ([]netip.Addr, dnsx.Status) {
	return e.c.dns.LookupHostAddrs(context.Background(), host)
}

// readMXBackupNetworks reads permit_mx_backup_networks (nil when empty).
func (c *Checker) readMXBackupNetworks(items []string) error {
	if len(items) == 0 {
		return nil
	}
	var err error
	c.mxBackupNetworks, err = match.NewNetworkList("permit_mx_backup_networks", items,
		match.Options{ParentStyle: match.ParentStyle(c.set.ParentDomains, "permit_mx_backup_networks"), OpenTable: c.tables.open})
	return err
}
