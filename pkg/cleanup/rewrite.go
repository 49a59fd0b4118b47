// Address rewriting: qualification with myorigin, canonical(5) mapping and virtual(5) alias expansion.

package cleanup

import (
	"errors"
	"fmt"
	"strings"

	"github.com/postern/postern/pkg/addr"
	"github.com/postern/postern/pkg/config"
	"github.com/postern/postern/pkg/maps"
	"github.com/postern/postern/pkg/resolve"
)

// errAliasNesting and errAliasSize are the two ways virtual alias
// expansion gives up; both make cleanup answer 451 4.6.0.
var (
	errAliasNesting = errors.New("unreasonable virtual_alias_maps map nesting")
	errAliasSize    = errors.New("unreasonable virtual_alias_maps map expansion size")
)

// aliasError names the address whose expansion failed.
type aliasError struct {
	kind    error
	address string
}

func (e *aliasError) Error() string {
	return fmt.Sprintf("%v for %s -- message not accepted, try again later", e.kind, e.address)
}

func (e *aliasError) Unwrap() error { return e.kind }

// qualify puts an address into user@domain form: a bare user gets
// @$myorigin (append_at_myorigin), a domain without a dot gets
// .$mydomain (append_dot_mydomain). The null address stays null.
func (s *Settings) qualify(address string) string {
	return s.qualifyWith(address, s.MyOrigin, s.MyDomain)
}

// qualifyWith is qualify with the given origin and domain in place of
// $myorigin and $mydomain, as the remote header rewriting context uses
// remote_header_rewrite_domain for both.
func (s *Settings) qualifyWith(address, origin, domain string) string {
	if address == "" {
		return ""
	}
	a := addr.Split(address)
	if !strings.Contains(address, "@") {
		if !s.AppendAtMyOrigin {
			return address
		}
		a.Domain = origin
	}
	if s.AppendDotMyDomain && a.Domain != "" && !strings.Contains(a.Domain, ".") && !strings.HasPrefix(a.Domain, "[") && domain != "" {
		a.Domain += "." + domain
	}
	return a.Internal()
}

// lookup searches tables for address in mail_addr_find's order (see
// resolve.AddressFinder) and returns the first value found and the key
// that found it.
func (s *Settings) lookup(tables []maps.Table, address string) (resolve.AddressMatch, bool, error) {
	f := resolve.AddressFinder{Extensions: s.Extensions, MyOrigin: s.MyOrigin, IsLocal: s.IsLocalDomain}
	m, found, err := f.Find(tables, address)
	if err != nil {
		return m, false, fmt.Errorf("%s: table lookup problem for %s: %w", m.Table.Spec(), m.Key.Key, err)
	}
	return m, found, nil
}

// applyResult turns one table result into an address for the original
// address: "@domain" keeps the user and replaces the domain, a bare user
// is qualified, and an extension the lookup had to cut is put back when
// propagate is set.
func (s *Settings) applyResult(result, original string, m resolve.AddressMatch, propagate bool) string {
	o := addr.Split(original)
	if strings.HasPrefix(result, "@") {
		return o.Local + result
	}
	r := addr.Split(s.qualify(result))
	if propagate && m.Key.ExtensionCut && m.Extension != "" && !strings.ContainsAny(r.Local, s.Extensions.Delimiter) {
		r.Local += m.Extension
	}
	return r.Internal()
}

// canonical rewrites address through the first table set that has it and
// then through canonical_maps, as cleanup does for the sender
// (sender_canonical_maps) and for recipients (recipient_canonical_maps).
func (s *Settings) canonical(address string, specific []maps.Table) (string, error) {
	if address == "" {
		return "", nil
	}
	for _, tables := range [][]maps.Table{specific, s.CanonicalMaps} {
		m, found, err := s.lookup(tables, address)
		if err != nil {
			return "", err
		}
		if found {
			if first := firstListItem(m.Value); first != "" {
				address = s.applyResult(first, address, m, s.PropagateCanonical)
			}
		}
	}
	return address, nil
}

// firstListItem returns the first address of a table value.
func firstListItem(v string) string {
	items := config.SplitList(v)
	if len(items) == 0 {
		return ""
	}
	return items[0]
}

// expandVirtual expands a recipient through virtual_alias_maps, recursively:
// every result is looked up again, except a result equal to the address
// it came from, which is kept as it is. Duplicates are dropped.
func (s *Settings) expandVirtual(address string) ([]string, error) {
	if len(s.VirtualAliasMaps) == 0 {
		return []string{address}, nil
	}
	var out []string
	seen := map[string]bool{}
	var expand func(current string, depth int) error
	expand = func(current string, depth int) error {
		if depth > s.AliasRecursionLimit {
			return &aliasError{kind: errAliasNesting, address: address}
		}
		m, found, err := s.lookup(s.VirtualAliasMaps, current)
		if err != nil {
			return err
		}
		if !found {
			return s.keep(current, address, seen, &out)
		}
		for _, item := range config.SplitList(m.Value) {
			next := s.applyResult(item, current, m, s.PropagateVirtual)
			if strings.EqualFold(next, current) {
				if err := s.keep(next, address, seen, &out); err != nil {
					return err
				}
				continue
			}
			if err := expand(next, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := expand(address, 0); err != nil {
		return nil, err
	}
	return out, nil
}

// keep adds a final address to out unless it is there already, checking
// virtual_alias_expansion_limit.
func (s *Settings) keep(address, original string, seen map[string]bool, out *[]string) error {
	key := strings.ToLower(address)
	if seen[key] {
		return nil
	}
	seen[key] = true
	*out = append(*out, address)
	if s.AliasExpansionLimit > 0 && len(*out) > s.AliasExpansionLimit {
		return &aliasError{kind: errAliasSize, address: original}
	}
	return nil
}
