// Building the resolver's settings from main.cf parameters.

package resolve

import (
	"fmt"
	"net/netip"

	"github.com/postern/postern/pkg/config"
	"github.com/postern/postern/pkg/maps"
	"github.com/postern/postern/pkg/match"
)

// FromConfig builds a resolver from cfg. localAddrs are this host's
// addresses for inet_interfaces and proxy_interfaces (the caller knows the
// interfaces). openTable opens table items; nil means maps.Open with
// default options. Close the resolver to release its tables.
func FromConfig(cfg *config.Config, localAddrs []netip.Addr, openTable func(spec string) (maps.Table, error)) (*Resolver, error) {
	if openTable == nil {
		openTable = func(spec string) (maps.Table, error) { return maps.Open(spec, maps.Options{}) }
	}
	s := Settings{LocalAddresses: localAddrs}
	strs := []struct {
		name string
		dst  *string
	}{
		{"myhostname", &s.MyHostname}, {"myorigin", &s.MyOrigin}, {"mydomain", &s.MyDomain},
		{"recipient_delimiter", &s.RecipientDelimiter},
		{"local_transport", &s.LocalTransport}, {"virtual_transport", &s.VirtualTransport},
		{"relay_transport", &s.RelayTransport}, {"default_transport", &s.DefaultTransport},
		{"error_service_name", &s.ErrorTransport}, {"relayhost", &s.RelayHost},
		{"empty_address_recipient", &s.EmptyAddressRecipient},
	}
	for _, p := range strs {
		v, err := cfg.Get(p.name)
		if err != nil {
			return nil, err
		}
		*p.dst = v
	}
	bools := []struct {
		name string
		dst  *bool
	}{
		{"append_at_myorigin", &s.AppendAtMyOrigin}, {"append_dot_mydomain", &s.AppendDotMyDomain},
		{"allow_percent_hack", &s.AllowPercentHack}, {"swap_bangpath", &s.SwapBangpath},
	}
	for _, p := range bools {
		v, err := cfg.Bool(p.name)
		if err != nil {
			return nil, err
		}
		*p.dst = v
	}
	parents, err := cfg.Get("parent_domain_matches_subdomains")
	if err != nil {
		return nil, err
	}
	r := &Resolver{s: s}
	lists := []struct {
		name string
		dst  **match.DomainList
	}{
		{"mydestination", &r.s.MyDestination}, {"virtual_alias_domains", &r.s.VirtualAliasDomains},
		{"virtual_mailbox_domains", &r.s.VirtualMailboxDomains}, {"relay_domains", &r.s.RelayDomains},
	}
	for _, l := range lists {
		items, err := cfg.List(l.name)
		if err != nil {
			r.Close()
			return nil, err
		}
		list, err := match.NewDomainList(l.name, items, match.Options{ParentStyle: match.ParentStyle(parents, l.name), OpenTable: openTable})
		if err != nil {
			r.Close()
			return nil, err
		}
		*l.dst = list
	}
	specs, err := cfg.List("transport_maps")
	if err != nil {
		r.Close()
		return nil, err
	}
	if len(specs) > 0 {
		var tables []maps.Table
		for _, spec := range specs {
			t, err := openTable(spec)
			if err != nil {
				NewTransportMaps(tables).Close()
				r.Close()
				return nil, fmt.Errorf("transport_maps: %w", err)
			}
			tables = append(tables, t)
		}
		r.s.TransportMaps = NewTransportMaps(tables)
	}
	return r, nil
}

// Close releases the tables of a resolver built by FromConfig.
func (r *Resolver) Close() error {
	var first error
	keep := func(err error) {
		if err != nil && first == nil {
			first = err
		}
	}
	for _, l := range []*match.DomainList{r.s.MyDestination, r.s.VirtualAliasDomains, r.s.VirtualMailboxDomains, r.s.RelayDomains} {
		if l != nil {
			keep(l.Close())
		}
	}
	if r.s.TransportMaps != nil {
		keep(r.s.TransportMaps.Close())
	}
	return first
}

// Settings returns the resolver's settings.
func (r *Resolver) Settings() Settings { return r.s }

// IsLocalDomain reports whether domain is a local final destination
// ($mydestination or an address literal of this host).
func (r *Resolver) IsLocalDomain(domain string) (bool, error) {
	return r.isLocal(stripTrailingDot(domain))
}
