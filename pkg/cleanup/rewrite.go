// Address rewriting: qualification with myorigin, canonical(5) mapping and virtual(5) alias expansion.

package cleanup

import (
	"errors"
	"fmt"
	"strings"

	"github.com/postern/postern/pkg/addr"
	"github.com/postern/postern/pkg/config"
	"github.com/postern/postern/pkg/maps"
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

// localDomain reports whether the bare-user lookup form applies to domain:
// it is $myorigin, in $mydestination, or an address literal of this host.
func (s *Settings) localDomain(domain string) (bool, error) {
	folded := addr.FoldDomain(strings.TrimSuffix(domain, "."))
	if folded == addr.FoldDomain(s.MyOrigin) {
		return true, nil
	}
	if s.IsLocalDomain == nil {
		return false, nil
	}
	return s.IsLocalDomain(domain)
}

// lookupForms lists the keys of a canonical(5) or virtual(5) lookup of
// address, in order, each with whether it dropped the address extension:
// user+ext@domain, user@domain, then (local domains only) user+ext, user,
// then @domain.
type lookupForm struct {
	key          string
	extensionCut bool
}

func (s *Settings) lookupForms(address string) ([]lookupForm, string, error) {
	a := addr.Split(address)
	local, ext := a.Local, ""
	if d := s.RecipientDelimiter; d != "" {
		if i := strings.IndexAny(local, d); i > 0 {
			local, ext = a.Local[:i], a.Local[i:]
		}
	}
	forms := []lookupForm{{key: address}}
	if ext != "" {
		forms = append(forms, lookupForm{key: local + "@" + a.Domain, extensionCut: true})
	}
	isLocal, err := s.localDomain(a.Domain)
	if err != nil {
		return nil, "", err
	}
	if isLocal || a.Domain == "" {
		forms = append(forms, lookupForm{key: a.Local})
		if ext != "" {
			forms = append(forms, lookupForm{key: local, extensionCut: true})
		}
	}
	if a.Domain != "" {
		forms = append(forms, lookupForm{key: "@" + a.Domain, extensionCut: ext != ""})
	}
	return forms, ext, nil
}

// lookup tries each form in every table before the next form, and returns
// the first value found and the form that found it.
func (s *Settings) lookup(tables []maps.Table, address string) (value string, form lookupForm, ext string, found bool, err error) {
	if len(tables) == 0 {
		return "", lookupForm{}, "", false, nil
	}
	forms, ext, err := s.lookupForms(address)
	if err != nil {
		return "", lookupForm{}, "", false, err
	}
	for _, f := range forms {
		for _, t := range tables {
			v, ok, err := t.Lookup(f.key)
			if err != nil {
				return "", lookupForm{}, "", false, fmt.Errorf("%s: table lookup problem for %s: %w", t.Spec(), f.key, err)
			}
			if ok {
				return v, f, ext, true, nil
			}
		}
	}
	return "", lookupForm{}, "", false, nil
}

// applyResult turns one table result into an address for the original
// address: "@domain" keeps the user and replaces the domain, a bare user
// is qualified, and an extension the lookup had to cut is put back when
// propagate is set.
func (s *Settings) applyResult(result, original string, form lookupForm, ext string, propagate bool) string {
	o := addr.Split(original)
	if strings.HasPrefix(result, "@") {
		return o.Local + result
	}
	r := addr.Split(s.qualify(result))
	if propagate && form.extensionCut && ext != "" && !strings.ContainsAny(r.Local, s.RecipientDelimiter) {
		r.Local += ext
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
		v, form, ext, found, err := s.lookup(tables, address)
		if err != nil {
			return "", err
		}
		if found {
			if first := firstListItem(v); first != "" {
				address = s.applyResult(first, address, form, ext, s.PropagateCanonical)
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
		v, form, ext, found, err := s.lookup(s.VirtualAliasMaps, current)
		if err != nil {
			return err
		}
		if !found {
			return s.keep(current, address, seen, &out)
		}
		for _, item := range config.SplitList(v) {
			next := s.applyResult(item, current, form, ext, s.PropagateVirtual)
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
