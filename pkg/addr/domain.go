// Domain syntax: host names and address literals as Postfix's resolver
// accepts them (valid_hostname, valid_mailhost_literal).

package addr

import (
	"net/netip"
	"strings"
	"unicode/utf8"
)

// Domain name limits from RFC 1035, which Postfix enforces.
const (
	maxLabelLength  = 63
	maxDomainLength = 255
)

// ValidDomain reports whether d is acceptable as the domain of a mail
// address: a host name or an address literal. With resolve_numerical_domain
// = no (Postfix's default) an unbracketed IP address is not acceptable.
func ValidDomain(d string) bool {
	if strings.HasPrefix(d, "[") {
		_, ok := ParseLiteral(d)
		return ok
	}
	return ValidHostname(d)
}

// ValidHostname reports whether name is a syntactically valid host name:
// dot-separated labels of letters, digits, '-' and '_' (or UTF-8 letters of
// an internationalised name), no label empty, longer than 63 bytes or
// starting or ending with '-', at most 255 bytes, and not all-numeric.
func ValidHostname(name string) bool {
	if name == "" || len(name) > maxDomainLength || !utf8.ValidString(name) {
		return false
	}
	numeric := true
	for _, label := range strings.Split(name, ".") {
		if label == "" || len(label) > maxLabelLength || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			switch {
			case r >= '0' && r <= '9':
			case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r == '-', r == '_':
				numeric = false
			case r >= utf8.RuneSelf && r != utf8.RuneError:
				numeric = false
			default:
				return false
			}
		}
	}
	return !numeric
}

// ParseLiteral parses an address literal "[1.2.3.4]" or "[IPv6:2001:db8::1]"
// (the "IPv6:" tag in any case) and returns its address.
func ParseLiteral(d string) (netip.Addr, bool) {
	if len(d) < 3 || d[0] != '[' || d[len(d)-1] != ']' {
		return netip.Addr{}, false
	}
	inner := d[1 : len(d)-1]
	if len(inner) > 5 && strings.EqualFold(inner[:5], "IPv6:") {
		ip, err := netip.ParseAddr(inner[5:])
		if err != nil || !ip.Is6() || ip.Zone() != "" {
			return netip.Addr{}, false
		}
		return ip, true
	}
	ip, err := netip.ParseAddr(inner)
	if err != nil || !ip.Is4() {
		return netip.Addr{}, false
	}
	return ip, true
}
