// Helpers for delivery agents: nexthop lists, "[host]:port" syntax and
// the text carried by the error, retry and discard transports.

package resolve

import (
	"strings"

	"github.com/postern/postern/pkg/config"
	"github.com/postern/postern/pkg/dsn"
)

// SplitNexthops splits a nexthop list ("a.example, b.example", Postfix
// 3.5+) into its destinations, in the order they are tried.
func SplitNexthops(nexthop string) []string { return config.SplitList(nexthop) }

// Destination is one parsed nexthop.
type Destination struct {
	Host string // host name, domain or IP address, without brackets
	Port string // "" when none was given
	// NoMX is true for "[host]": use the host's A/AAAA records
	// instead of an MX lookup.
	NoMX bool
}

// ParseDestination parses "domain", "host:port", "[host]", "[host]:port",
// "[1.2.3.4]" or "[ipv6:2001:db8::1]:25". ok is false for an empty host or
// an unclosed bracket.
func ParseDestination(s string) (d Destination, ok bool) {
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return Destination{}, false
		}
		d.Host, d.NoMX = s[1:end], true
		if len(d.Host) > 5 && strings.EqualFold(d.Host[:5], "ipv6:") {
			d.Host = d.Host[5:]
		}
		rest := s[end+1:]
		if rest != "" {
			if rest[0] != ':' || len(rest) == 1 {
				return Destination{}, false
			}
			d.Port = rest[1:]
		}
		if d.Host == "" {
			return Destination{}, false
		}
		return d, true
	}
	d.Host = s
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		d.Host, d.Port = s[:i], s[i+1:]
		if d.Port == "" {
			return Destination{}, false
		}
	}
	return d, d.Host != ""
}

// ParseErrorNexthop splits the nexthop of the error, retry or discard
// transport into an enhanced status code and text: "5.1.2 no such domain"
// gives ("5.1.2", "no such domain"). Without a code, defaultDSN is used
// (5.0.0 for error, 4.0.0 for retry, 2.0.0 for discard).
func ParseErrorNexthop(nexthop, defaultDSN string) (status, text string) {
	code, rest, _ := strings.Cut(nexthop, " ")
	if dsn.Valid(code) && code[0] == defaultDSN[0] {
		return code, strings.TrimSpace(rest)
	}
	return defaultDSN, nexthop
}
