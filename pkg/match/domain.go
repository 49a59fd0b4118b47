// Domain lists: mydestination, relay_domains, virtual_alias_domains,
// virtual_mailbox_domains and other lists of domain names.

package match

import (
	"fmt"
	"strings"

	"github.com/postern/postern/pkg/addr"
)

// DomainList is a parsed domain list.
type DomainList struct {
	name   string
	parent bool
	items  []item
}

// NewDomainList parses the items of the list called name (the parameter
// name, used in errors and for nothing else).
func NewDomainList(name string, items []string, opts Options) (*DomainList, error) {
	p := &parser{name: name, opts: opts}
	for _, text := range items {
		if err := p.add(text, false, 0, domainPattern); err != nil {
			closeAll(p.items)
			return nil, err
		}
	}
	return &DomainList{name: name, parent: opts.ParentStyle, items: p.items}, nil
}

// domainPattern checks and folds a literal domain pattern.
func domainPattern(text string) (item, error) {
	return item{pattern: addr.FoldDomain(text)}, nil
}

// Close releases the list's tables.
func (l *DomainList) Close() error { return closeAll(l.items) }

// Match reports whether domain matches the list: the first item that
// matches decides, and a "!" item that matches means no. A table that
// cannot be read is an error, as Postfix then defers.
func (l *DomainList) Match(domain string) (bool, error) {
	name := addr.FoldDomain(domain)
	if name == "" {
		return false, nil
	}
	for _, it := range l.items {
		matched, err := matchDomainItem(it, name, l.parent)
		if err != nil {
			return false, fmt.Errorf("%s: %w", l.name, err)
		}
		if matched {
			return !it.negate, nil
		}
	}
	return false, nil
}

// matchDomainItem applies one item to a folded domain name.
func matchDomainItem(it item, name string, parent bool) (bool, error) {
	if it.table != nil {
		return lookupDomain(it, name, parent)
	}
	return matchDomainPattern(it.pattern, name, parent), nil
}

// matchDomainPattern applies a literal pattern. With parent style,
// "example.com" matches itself and its subdomains and ".example.com"
// matches nothing; otherwise "example.com" matches only itself and
// ".example.com" matches only subdomains.
func matchDomainPattern(pattern, name string, parent bool) bool {
	if name == pattern {
		return true
	}
	if parent {
		return !strings.HasPrefix(pattern, ".") && strings.HasSuffix(name, "."+pattern)
	}
	return strings.HasPrefix(pattern, ".") && len(name) > len(pattern) && strings.HasSuffix(name, pattern)
}

// lookupDomain looks name up in a table item: the name itself, then, for
// tables of fixed strings, each parent domain ("example.com", "com" with
// parent style; ".example.com", ".com" without).
func lookupDomain(it item, name string, parent bool) (bool, error) {
	if _, found, err := it.table.Lookup(name); err != nil || found {
		return found, err
	}
	if !it.fixed {
		return false, nil
	}
	for rest := name; ; {
		dot := strings.IndexByte(rest, '.')
		if dot < 0 || dot == len(rest)-1 {
			return false, nil
		}
		key := rest[dot:]
		if parent {
			key = rest[dot+1:]
		}
		if _, found, err := it.table.Lookup(key); err != nil || found {
			return found, err
		}
		rest = rest[dot+1:]
	}
}
