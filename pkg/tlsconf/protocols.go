// Postfix's TLS protocol lists (smtp_tls_protocols, smtp_tls_mandatory_protocols, protocols=) as a crypto/tls version range.

package tlsconf

import (
	"crypto/tls"
	"fmt"
	"strings"
)

// versions are the protocols crypto/tls speaks, oldest first, with
// Postfix's names.
var versions = []struct {
	name    string
	version uint16
}{
	{"TLSv1", tls.VersionTLS10},
	{"TLSv1.1", tls.VersionTLS11},
	{"TLSv1.2", tls.VersionTLS12},
	{"TLSv1.3", tls.VersionTLS13},
}

// knownProtocol reports whether name is a protocol Postfix accepts in a
// list; SSLv2 and SSLv3 are valid names that crypto/tls never speaks.
func knownProtocol(name string) (index int, ok bool) {
	for i, v := range versions {
		if strings.EqualFold(v.name, name) {
			return i, true
		}
	}
	if strings.EqualFold(name, "SSLv2") || strings.EqualFold(name, "SSLv3") {
		return -1, true
	}
	return 0, false
}

// Protocols turns a Postfix protocol list into the range of versions to
// allow. The list holds names to enable ("TLSv1.2 TLSv1.3"), names to
// disable ("!TLSv1 !TLSv1.1") and bounds (">=TLSv1.2", "<=TLSv1.3"),
// separated by spaces, commas or colons; an empty list allows every
// version. crypto/tls takes one contiguous range, so when the list
// leaves gaps the newest contiguous run is used: a version the list
// disables is never allowed.
func Protocols(list string) (minVersion, maxVersion uint16, err error) {
	enabled := make([]bool, len(versions))
	included := make([]bool, len(versions))
	anyIncluded := false
	for i := range enabled {
		enabled[i] = true
	}
	for _, item := range strings.FieldsFunc(list, func(r rune) bool { return r == ' ' || r == '\t' || r == ',' || r == ':' }) {
		op, name := "", item
		for _, prefix := range []string{">=", "<=", "!"} {
			if rest, ok := strings.CutPrefix(item, prefix); ok {
				op, name = prefix, rest
				break
			}
		}
		index, ok := knownProtocol(name)
		if !ok {
			return 0, 0, fmt.Errorf("Invalid TLS protocol list %q", list)
		}
		if index < 0 {
			// An SSL version: older than every TLS version.
			anyIncluded = anyIncluded || op == ""
			if op == "<=" {
				for i := range enabled {
					enabled[i] = false
				}
			}
			continue
		}
		switch op {
		case "":
			included[index] = true
			anyIncluded = true
		case "!":
			enabled[index] = false
		case ">=":
			for i := 0; i < index; i++ {
				enabled[i] = false
			}
		case "<=":
			for i := index + 1; i < len(versions); i++ {
				enabled[i] = false
			}
		}
	}
	if anyIncluded {
		for i := range enabled {
			enabled[i] = enabled[i] && included[i]
		}
	}
	top := -1
	for i := len(enabled) - 1; i >= 0; i-- {
		if enabled[i] {
			top = i
			break
		}
	}
	if top < 0 {
		return 0, 0, fmt.Errorf("Invalid TLS protocol list %q: no protocols enabled", list)
	}
	bottom := top
	for bottom > 0 && enabled[bottom-1] {
		bottom--
	}
	return versions[bottom].version, versions[top].version, nil
}

// ProtocolName is Postfix's (OpenSSL's) name of a TLS version: "TLSv1.3".
func ProtocolName(version uint16) string {
	for _, v := range versions {
		if v.version == version {
			return v.name
		}
	}
	return tls.VersionName(version)
}
