// Network lists: mynetworks, *_exclusions and other lists of client
// addresses, networks and host names (Postfix's namadr_list).

package match

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/postern/postern/pkg/addr"
)

// NetworkList is a parsed list of addresses, networks and host names.
type NetworkList struct {
	name   string
	parent bool
	items  []item
}

// NewNetworkList parses the items of the list called name. Network
// patterns are "1.2.3.4", "[1.2.3.4]", "1.2.3.0/24", "[::1]",
// "[2001:db8::]/32"; IPv6 must be bracketed. Anything else that is not a
// /file or type:table is a host name pattern, matched like a domain.
func NewNetworkList(name string, items []string, opts Options) (*NetworkList, error) {
	p := &parser{name: name, opts: opts}
	classify := func(text string) (item, error) {
		prefix, isNet, err := parseNetwork(name, text)
		if err != nil {
			return item{}, err
		}
		if isNet {
			return item{network: prefix, isNet: true}, nil
		}
		return item{pattern: addr.FoldDomain(text)}, nil
	}
	for _, text := range items {
		if err := p.add(text, false, 0, classify); err != nil {
			closeAll(p.items)
			return nil, err
		}
	}
	return &NetworkList{name: name, parent: opts.ParentStyle, items: p.items}, nil
}

// parseNetwork recognises an address or net/mask pattern. isNet is false
// for a host name pattern.
func parseNetwork(list, text string) (prefix netip.Prefix, isNet bool, err error) {
	bracketed := strings.HasPrefix(text, "[")
	host, mask, hasMask := strings.Cut(text, "/")
	if bracketed {
		if len(host) < 3 || host[len(host)-1] != ']' {
			return prefix, false, fmt.Errorf("%s: bad address pattern: %q", list, text)
		}
		host = host[1 : len(host)-1]
	}
	ip, perr := netip.ParseAddr(host)
	if perr != nil || ip.Zone() != "" {
		if bracketed || hasMask || looksNumeric(host) {
			return prefix, false, fmt.Errorf("%s: bad net/mask pattern: %q", list, text)
		}
		return prefix, false, nil
	}
	if ip.Is6() && !bracketed {
		return prefix, false, fmt.Errorf("%s: bad address pattern: %q: enclose an IPv6 address in []", list, text)
	}
	ip = ip.Unmap()
	bits := ip.BitLen()
	if hasMask {
		n, ok := maskBits(mask)
		if !ok || n > ip.BitLen() {
			return prefix, false, fmt.Errorf("%s: bad net/mask pattern: %q", list, text)
		}
		bits = n
	}
	prefix = netip.PrefixFrom(ip, bits)
	if masked := prefix.Masked(); masked.Addr() != ip {
		suggest := masked.Addr().String()
		if ip.Is6() {
			suggest = "[" + suggest + "]"
		}
		return prefix, false, fmt.Errorf("%s: non-null host address bits in %q, perhaps you should use \"%s/%d\" instead", list, text, suggest, bits)
	}
	return prefix, true, nil
}

// looksNumeric reports whether text has only digits and dots, so it was
// meant as an IPv4 address rather than a host name.
func looksNumeric(text string) bool {
	for i := 0; i < len(text); i++ {
		if (text[i] < '0' || text[i] > '9') && text[i] != '.' {
			return false
		}
	}
	return text != ""
}

// maskBits parses the decimal prefix length after "/".
func maskBits(s string) (int, bool) {
	if s == "" || len(s) > 3 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

// Close releases the list's tables.
func (l *NetworkList) Close() error { return closeAll(l.items) }

// Match reports whether a client matches the list. hostname may be "" or
// "unknown" (no name known), in which case host name patterns do not
// match; clientAddr is the client's IP address in text form. Table items
// are looked up with the host name (and its parents) and then with the
// address.
func (l *NetworkList) Match(hostname, clientAddr string) (bool, error) {
	name := addr.FoldDomain(strings.TrimSuffix(hostname, "."))
	if name == "unknown" {
		name = ""
	}
	ip, ipErr := netip.ParseAddr(clientAddr)
	if ipErr == nil {
		ip = ip.Unmap().WithZone("")
		clientAddr = ip.String()
	}
	for _, it := range l.items {
		matched, err := l.matchItem(it, name, clientAddr, ip, ipErr == nil)
		if err != nil {
			return false, fmt.Errorf("%s: %w", l.name, err)
		}
		if matched {
			return !it.negate, nil
		}
	}
	return false, nil
}

// matchItem applies one item to the client.
func (l *NetworkList) matchItem(it item, name, clientAddr string, ip netip.Addr, validIP bool) (bool, error) {
	if it.table != nil {
		if name != "" {
			if found, err := lookupDomain(it, name, l.parent); err != nil || found {
				return found, err
			}
		}
		if clientAddr == "" {
			return false, nil
		}
		_, found, err := it.table.Lookup(clientAddr)
		return found, err
	}
	if it.isNet {
		return validIP && it.network.Contains(ip), nil
	}
	return name != "" && matchDomainPattern(it.pattern, name, l.parent), nil
}
