// transport_maps: per-address and per-domain overrides of the class's
// transport and nexthop (transport(5)).

package resolve

import (
	"fmt"
	"strings"

	"github.com/postern/postern/pkg/addr"
	"github.com/postern/postern/pkg/maps"
)

// TransportMaps is the list of tables of transport_maps, searched in order
// for each lookup key.
type TransportMaps struct {
	tables []maps.Table
}

// NewTransportMaps wraps opened tables.
func NewTransportMaps(tables []maps.Table) *TransportMaps {
	return &TransportMaps{tables: tables}
}

// Close closes the tables.
func (t *TransportMaps) Close() error {
	var first error
	for _, tab := range t.tables {
		if err := tab.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// lookupKey is one query of the transport_maps search.
type lookupKey struct {
	key     string
	partial bool // not the whole address: pattern tables skip it
}

// transportKeys returns the queries for an internal-form address, in
// Postfix's order: user+ext@domain, user@domain (with a recipient
// delimiter), domain, .parent domains, "*".
func transportKeys(local, domain string, ext addr.Extensions) []lookupKey {
	keys := []lookupKey{{key: local + "@" + domain}}
	if base, _, ok := ext.Split(local); ok {
		keys = append(keys, lookupKey{key: base + "@" + domain, partial: true})
	}
	keys = append(keys, lookupKey{key: domain, partial: true})
	for rest := domain; ; {
		dot := strings.IndexByte(rest, '.')
		if dot < 0 || dot == len(rest)-1 || strings.HasPrefix(domain, "[") {
			break
		}
		keys = append(keys, lookupKey{key: rest[dot:], partial: true})
		rest = rest[dot+1:]
	}
	return append(keys, lookupKey{key: "*", partial: true})
}

// Lookup searches the tables for the address and returns the first
// value found.
func (t *TransportMaps) Lookup(local, domain string, ext addr.Extensions) (value string, found bool, err error) {
	for _, k := range transportKeys(local, domain, ext) {
		for _, tab := range t.tables {
			if k.partial && !maps.FixedKeys(tab.Spec()) {
				continue
			}
			v, ok, err := tab.Lookup(k.key)
			if err != nil {
				return "", false, fmt.Errorf("transport_maps: %s: lookup %s: %w", tab.Spec(), k.key, err)
			}
			if ok {
				return v, true, nil
			}
		}
	}
	return "", false, nil
}

// apply overrides the result's channel with a transport_maps entry.
// "transport:nexthop" sets both; ":nexthop" keeps the transport; ":"
// changes nothing; "transport:" resets the nexthop to the recipient
// domain.
func (t *TransportMaps) apply(res *Result, ext addr.Extensions) error {
	value, found, err := t.Lookup(res.Address.Local, res.Address.Domain, ext)
	if err != nil || !found {
		return err
	}
	transport, nexthop, _ := strings.Cut(strings.TrimSpace(value), ":")
	transport = strings.TrimSpace(transport)
	nexthop = strings.TrimSpace(nexthop)
	switch {
	case transport == "" && nexthop == "":
	case transport == "":
		res.Nexthop = nexthop
	case nexthop == "":
		res.Transport, res.Nexthop = transport, res.Address.Domain
	default:
		res.Transport, res.Nexthop = transport, nexthop
	}
	return nil
}
