// Package addr parses and formats mail addresses as Postfix does: SMTP
// paths with their ESMTP parameters, the internal (unquoted) and external
// (RFC 5322 quoted) forms, and domain syntax checks.
package addr

import (
	"strings"
	"unicode/utf8"
)

// Address is a mailbox in Postfix's internal form: the local part has its
// quotes and backslash escapes removed. Domain is "" when the address has
// no "@"; it is kept as written, case and trailing dot included (fold it
// only to compare; the resolver drops the dot).
type Address struct {
	Local  string
	Domain string
}

// Split splits an internal-form address at its last "@", as Postfix does:
// the local part may itself contain "@" ("user@other@relay").
func Split(internal string) Address {
	i := strings.LastIndexByte(internal, '@')
	if i < 0 {
		return Address{Local: internal}
	}
	return Address{Local: internal[:i], Domain: internal[i+1:]}
}

// Internal returns the internal form: local@domain without quoting, or
// the local part alone when there is no domain.
func (a Address) Internal() string {
	if a.Domain == "" {
		return a.Local
	}
	return a.Local + "@" + a.Domain
}

// String returns the external form, with the local part quoted when it
// needs to be (see QuoteLocal).
func (a Address) String() string {
	if a.Domain == "" {
		return QuoteLocal(a.Local)
	}
	return QuoteLocal(a.Local) + "@" + a.Domain
}

// FoldedDomain returns the domain folded to lower case and without a
// trailing dot, for comparisons.
func (a Address) FoldedDomain() string {
	d := a.Domain
	if strings.HasSuffix(d, ".") && !strings.HasSuffix(d, "..") {
		d = d[:len(d)-1]
	}
	return FoldDomain(d)
}

// IsASCII reports whether the address is plain ASCII; anything else needs
// SMTPUTF8.
func (a Address) IsASCII() bool { return isASCII(a.Local) && isASCII(a.Domain) }

// FoldDomain folds a domain name to lower case: ASCII letters, and UTF-8
// letters of an internationalised name.
func FoldDomain(domain string) string {
	if isASCII(domain) {
		return asciiLower(domain)
	}
	if !utf8.ValidString(domain) {
		return asciiLower(domain)
	}
	return strings.ToLower(domain)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func asciiLower(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}
