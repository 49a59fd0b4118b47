// Package resolve decides, as Postfix's trivial-rewrite does, the address
// class of a recipient (local, virtual alias, virtual mailbox, relay,
// default) and the transport:nexthop that delivers it.
package resolve

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/postern/postern/pkg/addr"
	"github.com/postern/postern/pkg/maps"
	"github.com/postern/postern/pkg/match"
)

// Class is an address class.
type Class int

// The address classes, in the order trivial-rewrite tests them.
const (
	ClassLocal Class = iota + 1
	ClassVirtualAlias
	ClassVirtualMailbox
	ClassRelay
	ClassDefault
)

// String names the class as Postfix's documentation does.
func (c Class) String() string {
	switch c {
	case ClassLocal:
		return "local"
	case ClassVirtualAlias:
		return "virtual alias"
	case ClassVirtualMailbox:
		return "virtual mailbox"
	case ClassRelay:
		return "relay"
	case ClassDefault:
		return "default"
	}
	return fmt.Sprintf("Class(%d)", int(c))
}

// Final reports whether mail of this class is delivered here (the final
// destination classes that reject_unauth_destination permits).
func (c Class) Final() bool {
	return c == ClassLocal || c == ClassVirtualAlias || c == ClassVirtualMailbox
}

// Settings are the parameters the resolver uses. New fills them from a
// main.cf; tests may build them directly.
type Settings struct {
	MyHostname string `param:"myhostname"`
	MyOrigin   string `param:"myorigin"` // appended to an address without domain
	MyDomain   string `param:"mydomain"` // for append_dot_mydomain

	MyDestination         *match.DomainList // mydestination
	VirtualAliasDomains   *match.DomainList // virtual_alias_domains
	VirtualMailboxDomains *match.DomainList // virtual_mailbox_domains
	RelayDomains          *match.DomainList // relay_domains

	// LocalAddresses are this host's addresses for inet_interfaces
	// and proxy_interfaces: "user@[ip]" with one of them is local.
	LocalAddresses []netip.Addr

	TransportMaps *TransportMaps // transport_maps; nil when empty
	// SenderTransportMaps and SenderRelayhostMaps are
	// sender_dependent_default_transport_maps and
	// sender_dependent_relayhost_maps, used by ResolveFrom; the null
	// sender is looked up with the empty_address_*_lookup_key.
	SenderTransportMaps    []maps.Table
	SenderRelayhostMaps    []maps.Table
	NullSenderTransportKey string `param:"empty_address_default_transport_maps_lookup_key"`
	NullSenderRelayhostKey string `param:"empty_address_relayhost_maps_lookup_key"`
	// Extensions are recipient_delimiter and the local parts it does
	// not split.
	Extensions addr.Extensions

	LocalTransport   string `param:"local_transport"` // e.g. "local:$myhostname"
	VirtualTransport string `param:"virtual_transport"`
	RelayTransport   string `param:"relay_transport"`
	DefaultTransport string `param:"default_transport"`
	ErrorTransport   string `param:"error_service_name"`
	RelayHost        string `param:"relayhost"`

	AppendAtMyOrigin      bool   `param:"append_at_myorigin"`
	AppendDotMyDomain     bool   `param:"append_dot_mydomain"`
	AllowPercentHack      bool   `param:"allow_percent_hack"`
	SwapBangpath          bool   `param:"swap_bangpath"`
	EmptyAddressRecipient string `param:"empty_address_recipient"`
}

// Resolver resolves recipients with fixed settings. It is safe for
// concurrent use when its tables are.
type Resolver struct {
	s Settings
}

// Result is the outcome of resolving one address.
type Result struct {
	// Recipient is the rewritten address in internal form
	// (user@domain); "postmaster" becomes "postmaster@$myorigin".
	Recipient string
	// Address is Recipient split at its last "@".
	Address addr.Address
	Class   Class
	// Transport and Nexthop are the delivery channel. For the error,
	// retry and discard transports the nexthop is the text (see
	// ParseErrorNexthop).
	Transport string
	Nexthop   string
	// Routed is true when the local part carries sender-specified
	// routing ("%", "!" or "@"); reject_unauth_destination does not
	// trust such an address unless allow_untrusted_routing = yes.
	Routed bool
	// BadDomain is true when the domain is not a valid host name or
	// address literal; smtpd answers with a syntax error.
	BadDomain bool
	// Warnings are the configuration problems found on the way, in
	// Postfix's words ("do not list domain X in BOTH ...").
	Warnings []string
}

// Resolve resolves an address given in internal (unquoted) form. The null
// address resolves as $empty_address_recipient@$myhostname. The
// sender-dependent tables are not used (see ResolveFrom).
func (r *Resolver) Resolve(internal string) (Result, error) {
	return r.resolve(internal, nil)
}

// resolve resolves internal for mail from *sender, or without the
// sender-dependent tables when sender is nil.
func (r *Resolver) resolve(internal string, sender *string) (Result, error) {
	a := r.rewrite(internal)
	var res Result
	a, err := r.stripLocalRouting(a, &res)
	if err != nil {
		return Result{}, err
	}
	res.Address = a
	res.Recipient = a.Internal()
	res.Routed = strings.ContainsAny(a.Local, "@!%")
	res.BadDomain = !addr.ValidDomain(a.Domain)
	if err := r.classify(&res); err != nil {
		return Result{}, err
	}
	if err := r.defaultChannel(&res, sender); err != nil {
		return Result{}, err
	}
	if r.s.TransportMaps != nil {
		if err := r.s.TransportMaps.apply(&res, r.s.Extensions); err != nil {
			return Result{}, err
		}
	}
	return res, nil
}

// rewrite canonicalises an address as trivial-rewrite's "local" context
// does: the null address becomes MAILER-DAEMON@$myhostname, a source route
// is dropped, a missing domain becomes $myorigin.
func (r *Resolver) rewrite(internal string) addr.Address {
	if internal == "" {
		return addr.Address{Local: r.s.EmptyAddressRecipient, Domain: r.s.MyHostname}
	}
	if strings.HasPrefix(internal, "@") {
		if colon := strings.IndexByte(internal, ':'); colon > 0 {
			internal = internal[colon+1:]
		}
	}
	a := addr.Split(internal)
	if !strings.Contains(internal, "@") && r.s.AppendAtMyOrigin {
		a.Domain = r.s.MyOrigin
	}
	if r.s.AppendDotMyDomain && a.Domain != "" && !strings.Contains(a.Domain, ".") && !strings.HasPrefix(a.Domain, "[") {
		a.Domain += "." + r.s.MyDomain
	}
	return a
}

// stripLocalRouting follows sender-specified routing through local
// domains: "user%host@local" becomes "user@host" (allow_percent_hack),
// "host!user@local" becomes "user@host" (swap_bangpath), until the domain
// is not local or the local part has no more routing. A local part that
// needs quoting ("a@b"@local) is one token and is not split.
func (r *Resolver) stripLocalRouting(a addr.Address, res *Result) (addr.Address, error) {
	for { // each step shortens the local part, so this ends
		a.Domain = stripTrailingDot(a.Domain)
		if addr.NeedsQuoting(a.Local) {
			return a, nil
		}
		local, err := r.isLocal(a.Domain)
		if err != nil || !local {
			return a, err
		}
		switch {
		case r.s.AllowPercentHack && strings.Contains(a.Local, "%"):
			i := strings.LastIndexByte(a.Local, '%')
			a = addr.Address{Local: a.Local[:i], Domain: a.Local[i+1:]}
		case r.s.SwapBangpath && strings.Contains(a.Local, "!"):
			i := strings.IndexByte(a.Local, '!')
			a = addr.Address{Local: a.Local[i+1:], Domain: a.Local[:i]}
		default:
			return a, nil
		}
	}
}

// stripTrailingDot removes one trailing dot, but not from "x.." or "".
func stripTrailingDot(d string) string {
	if strings.HasSuffix(d, ".") && !strings.HasSuffix(d, "..") {
		return d[:len(d)-1]
	}
	return d
}

// isLocal reports whether domain is a local final destination:
// $mydestination, or an address literal of one of this host's addresses.
func (r *Resolver) isLocal(domain string) (bool, error) {
	if domain == "" {
		return false, nil
	}
	if ip, ok := addr.ParseLiteral(domain); ok {
		for _, mine := range r.s.LocalAddresses {
			if mine.Unmap() == ip.Unmap() {
				return true, nil
			}
		}
		return false, nil
	}
	return matchList(r.s.MyDestination, domain)
}

// matchList matches a possibly absent list.
func matchList(l *match.DomainList, domain string) (bool, error) {
	if l == nil {
		return false, nil
	}
	return l.Match(domain)
}

// classify sets the address class, testing the classes in Postfix's
// order, and warns about a domain listed in two of them.
func (r *Resolver) classify(res *Result) error {
	domain := res.Address.Domain
	local, err := r.isLocal(domain)
	if err != nil {
		return err
	}
	alias, err := matchList(r.s.VirtualAliasDomains, domain)
	if err != nil {
		return err
	}
	mailbox, err := matchList(r.s.VirtualMailboxDomains, domain)
	if err != nil {
		return err
	}
	warn := func(a, b string) {
		res.Warnings = append(res.Warnings, fmt.Sprintf("do not list domain %s in BOTH %s and %s", domain, a, b))
	}
	switch {
	case local:
		res.Class = ClassLocal
		if alias {
			warn("mydestination", "virtual_alias_domains")
		}
		if mailbox {
			warn("mydestination", "virtual_mailbox_domains")
		}
	case alias:
		res.Class = ClassVirtualAlias
		if mailbox {
			warn("virtual_alias_domains", "virtual_mailbox_domains")
		}
	case mailbox:
		res.Class = ClassVirtualMailbox
	default:
		relay, err := matchList(r.s.RelayDomains, domain)
		if err != nil {
			return err
		}
		res.Class = ClassDefault
		if relay {
			res.Class = ClassRelay
		}
	}
	return nil
}

// defaultChannel sets the class's transport and nexthop: a nexthop
// written in the class's transport parameter wins over the
// sender-dependent relayhost, which wins over relayhost, which wins over
// the recipient domain. With a sender, an off-host destination's
// transport and relayhost may depend on it.
func (r *Resolver) defaultChannel(res *Result, sender *string) error {
	domain := res.Address.Domain
	var channel, nexthop string
	switch res.Class {
	case ClassLocal:
		channel, nexthop = r.s.LocalTransport, domain
	case ClassVirtualAlias:
		channel, nexthop = r.s.ErrorTransport, "5.1.1 User unknown in virtual alias table"
	case ClassVirtualMailbox:
		channel, nexthop = r.s.VirtualTransport, domain
	case ClassRelay, ClassDefault:
		channel = r.s.DefaultTransport
		if res.Class == ClassRelay {
			channel = r.s.RelayTransport
		}
		nexthop = domain
		if r.s.RelayHost != "" {
			nexthop = r.s.RelayHost
		}
		if sender != nil {
			var err error
			if channel, nexthop, err = r.senderChannel(res, *sender, channel, nexthop); err != nil {
				return err
			}
		}
	}
	transport, inner, hasColon := strings.Cut(channel, ":")
	if hasColon && inner != "" {
		nexthop = inner
	}
	res.Transport, res.Nexthop = transport, nexthop
	return nil
}
