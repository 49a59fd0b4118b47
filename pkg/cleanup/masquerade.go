// Address masquerading (masquerade_domains, masquerade_exceptions,
// masquerade_classes): user@host.sub.example.com becomes
// user@example.com, as Postfix's cleanup does.

package cleanup

import (
	"fmt"
	"strings"

	"github.com/postern/postern/pkg/maps"
)

// Masquerade is the masquerading configuration.
type Masquerade struct {
	// Domains is masquerade_domains in order; "!domain" keeps a domain
	// and its subdomains from being stripped by later items.
	Domains []string
	// Exceptions are the masquerade_exceptions local parts (lower case)
	// and tables.
	Exceptions      []string
	ExceptionTables []maps.Table
	// The masquerade_classes.
	EnvelopeSender, EnvelopeRecipient, HeaderSender, HeaderRecipient bool
}

// newMasquerade builds the masquerading configuration from the
// parameters' items; openTable opens a "type:table" exception.
func newMasquerade(domains, exceptions, classes []string, openTable func(spec string) (maps.Table, error)) (*Masquerade, error) {
	if len(domains) == 0 {
		return nil, nil
	}
	m := &Masquerade{Domains: domains}
	for _, c := range classes {
		switch strings.ToLower(c) {
		case "envelope_sender":
			m.EnvelopeSender = true
		case "envelope_recipient":
			m.EnvelopeRecipient = true
		case "header_sender":
			m.HeaderSender = true
		case "header_recipient":
			m.HeaderRecipient = true
		default:
			return nil, fmt.Errorf("masquerade_classes: unknown class: %s", c)
		}
	}
	for _, e := range exceptions {
		if strings.Contains(e, ":") {
			t, err := openTable(e)
			if err != nil {
				return nil, fmt.Errorf("masquerade_exceptions: %w", err)
			}
			m.ExceptionTables = append(m.ExceptionTables, t)
			continue
		}
		m.Exceptions = append(m.Exceptions, strings.ToLower(e))
	}
	return m, nil
}

// apply masquerades an internal-form address: when a parent domain of its
// domain is listed, the domain becomes that parent; the first listed
// domain that is the domain itself or a parent of it decides. Local parts
// in masquerade_exceptions are left alone.
func (m *Masquerade) apply(address string) (string, error) {
	if m == nil {
		return address, nil
	}
	at := strings.LastIndexByte(address, '@')
	if at < 0 {
		return address, nil
	}
	local, domain := address[:at], strings.ToLower(address[at+1:])
	excluded, err := m.excepted(local)
	if err != nil || excluded {
		return address, err
	}
	for _, item := range m.Domains {
		truncate := true
		for strings.HasPrefix(item, "!") {
			item, truncate = item[1:], !truncate
		}
		item = strings.ToLower(item)
		switch {
		case item == "":
			continue
		case item == domain:
			return address, nil
		case strings.HasSuffix(domain, "."+item):
			if truncate {
				return local + "@" + item, nil
			}
			return address, nil
		}
	}
	return address, nil
}

// excepted reports whether local is in masquerade_exceptions.
func (m *Masquerade) excepted(local string) (bool, error) {
	folded := strings.ToLower(local)
	for _, e := range m.Exceptions {
		if e == folded {
			return true, nil
		}
	}
	for _, t := range m.ExceptionTables {
		_, ok, err := t.Lookup(folded)
		if err != nil {
			return false, fmt.Errorf("masquerade_exceptions: %s: table lookup problem: %w", t.Spec(), err)
		}
		if ok {
			return true, nil
		}
	}
	return false, nil
}
