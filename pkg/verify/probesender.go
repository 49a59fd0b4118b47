// Recognising the probe sender address when mail comes back to it.

package verify

import (
	"strings"
	"time"
)

// ProbeSenderMatcher tells whether an address is one that probes are
// sent from, as Postfix's smtpd does at RCPT TO: such a recipient (a
// probe's bounce, or a probe from a peer with the same sender) passes
// no restriction, so that two sites probing each other cannot lock one
// another out.
type ProbeSenderMatcher struct {
	// Canonical is address_verify_sender rewritten to user@domain form
	// ("double-bounce@example.com"), "" for the null sender.
	Canonical string
	// TTL is address_verify_sender_ttl: the local part carries a time
	// stamp that may be one TTL older or newer than now.
	TTL time.Duration
}

// Match reports whether address is a probe sender at now, and returns
// the address without its time stamp, which is where such mail goes.
// The comparison ignores case; the null sender never matches a
// recipient.
func (m ProbeSenderMatcher) Match(address string, now time.Time) (string, bool) {
	if m.Canonical == "" || address == "" {
		return "", false
	}
	local, domain, hasDomain := strings.Cut(m.Canonical, "@")
	if len(address) < len(local) || !strings.EqualFold(address[:len(local)], local) {
		return "", false
	}
	rest := address[len(local):]
	stamp, theirDomain, theirHasDomain := strings.Cut(rest, "@")
	if theirHasDomain != hasDomain || !strings.EqualFold(theirDomain, domain) {
		return "", false
	}
	if m.TTL <= 0 {
		if stamp != "" {
			return "", false
		}
		return m.Canonical, true
	}
	theirs, ok := parseSafeBase31(stamp)
	if !ok {
		return "", false
	}
	mine := uint64(now.Unix() / int64(m.TTL/time.Second))
	if theirs+1 < mine || theirs > mine+1 {
		return "", false
	}
	return m.Canonical, true
}

// parseSafeBase31 reads a number written by safeBase31 (upper or lower
// case); an empty or malformed text is not one.
func parseSafeBase31(s string) (uint64, bool) {
	if s == "" || len(s) > 12 {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		d := strings.IndexByte(safeDigits, upper(s[i]))
		if d < 0 {
			return 0, false
		}
		n = n*31 + uint64(d)
	}
	return n, true
}

func upper(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}
