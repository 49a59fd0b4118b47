// Building the resolver's settings from main.cf parameters.

package resolve

import (
	"fmt"
	"net/netip"

	"github.com/postern/postern/pkg/config"
	"github.com/postern/postern/pkg/maps"
	"github.com/postern/postern/pkg/match"
)

// tableParams are the lists FromConfig turns into domain lists and
// transport tables.
type tableParams struct {
	ParentStyles          string   `param:"parent_domain_matches_subdomains"`
	MyDestination         []string `param:"mydestination"`
	VirtualAliasDomains   []string `param:"virtual_alias_domains"`
	VirtualMailboxDomains []string `param:"virtual_mailbox_domains"`
	RelayDomains          []string `param:"relay_domains"`
	TransportMaps         []string `param:"transport_maps"`
	SenderTransportMaps   []string `param:"sender_dependent_default_transport_maps"`
	SenderRelayhostMaps   []string `param:"sender_dependent_relayhost_maps"`
}

// FromConfig builds a resolver from cfg. localAddrs are this host's
// addresses for inet_interfaces and proxy_interfaces (the caller knows the
// interfaces). openTable opens table items; nil means maps.Open with
// default options. Close the resolver to release its tables.
func FromConfig(cfg *config.Config, localAddrs []netip.Addr, openTable func(spec string) (maps.Table, error)) (*Resolver, error) {
	if openTable == nil {
		openTable = func(spec string) (maps.Table, error) { return maps.Open(spec, maps.Options{}) }
	}
	r := &Resolver{s: Settings{LocalAddresses: localAddrs}}
	var p tableParams
	if err := cfg.Fill(&r.s); err != nil {
		return nil, err
	}
	if err := cfg.Fill(&p); err != nil {
		return nil, err
	}
	if err := r.openTables(p, openTable); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// openTables builds the domain lists and the transport tables.
func (r *Resolver) openTables(p tableParams, openTable func(spec string) (maps.Table, error)) error {
	for _, l := range []struct {
		name  string
		items []string
		dst   **match.DomainList
	}{
		{"mydestination", p.MyDestination, &r.s.MyDestination},
		{"virtual_alias_domains", p.VirtualAliasDomains, &r.s.VirtualAliasDomains},
		{"virtual_mailbox_domains", p.VirtualMailboxDomains, &r.s.VirtualMailboxDomains},
		{"relay_domains", p.RelayDomains, &r.s.RelayDomains},
	} {
		list, err := match.NewDomainList(l.name, l.items, match.Options{ParentStyle: match.ParentStyle(p.ParentStyles, l.name), OpenTable: openTable})
		if err != nil {
			return err
		}
		*l.dst = list
	}
	for _, l := range []struct {
		name  string
		specs []string
		dst   *[]maps.Table
	}{
		{"sender_dependent_default_transport_maps", p.SenderTransportMaps, &r.s.SenderTransportMaps},
		{"sender_dependent_relayhost_maps", p.SenderRelayhostMaps, &r.s.SenderRelayhostMaps},
	} {
		for _, spec := range l.specs {
			t, err := openTable(spec)
			if err != nil {
				return fmt.Errorf("%s: %w", l.name, err)
			}
			*l.dst = append(*l.dst, t)
		}
	}
	if len(p.TransportMaps) == 0 {
		return nil
	}
	var tables []maps.Table
	for _, spec := range p.TransportMaps {
		t, err := openTable(spec)
		if err != nil {
			NewTransportMaps(tables).Close()
			return fmt.Errorf("transport_maps: %w", err)
		}
		tables = append(tables, t)
	}
	r.s.TransportMaps = NewTransportMaps(tables)
	return nil
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
	for _, t := range append(append([]maps.Table(nil), r.s.SenderTransportMaps...), r.s.SenderRelayhostMaps...) {
		keep(t.Close())
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
