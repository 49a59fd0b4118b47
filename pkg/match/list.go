// Package match implements Postfix's match lists: domain lists
// (mydestination, relay_domains, virtual_*_domains) and network lists
// (mynetworks and friends), with /file/name items, type:table items,
// !exclusions and first-match-wins evaluation.
package match

import (
	"bufio"
	"fmt"
	"net/netip"
	"os"
	"strings"

	"github.com/postern/postern/pkg/config"
	"github.com/postern/postern/pkg/maps"
)

// Options change how a list is built.
type Options struct {
	// ParentStyle is true when the list's parameter is named in
	// parent_domain_matches_subdomains: "example.com" then matches its
	// subdomains too and ".example.com" matches nothing.
	ParentStyle bool
	// OpenTable opens "type:name" items. Nil means maps.Open with
	// default options.
	OpenTable func(spec string) (maps.Table, error)
}

// ParentStyle reports whether the parameter name is listed in the value of
// parent_domain_matches_subdomains.
func ParentStyle(parentDomainMatchesSubdomains, name string) bool {
	for _, item := range config.SplitList(parentDomainMatchesSubdomains) {
		if item == name {
			return true
		}
	}
	return false
}

// item is one pattern of a list, after /file expansion.
type item struct {
	negate  bool
	pattern string       // a literal pattern, folded to lower case
	network netip.Prefix // a network pattern, when isNet
	isNet   bool
	table   maps.Table // set for a type:table item
	// fixed is true for a table whose keys are strings (hash, texthash,
	// inline ...), which get parent-domain lookups; regexp-like tables
	// get one query.
	fixed bool
}

// maxFileDepth bounds /file items that name other /file items.
const maxFileDepth = 10

// parser expands a list's items into patterns.
type parser struct {
	name  string
	opts  Options
	items []item
}

// add parses one list item: "!"s, then a /file, a type:table or a pattern.
func (p *parser) add(text string, negate bool, depth int, classify func(string) (item, error)) error {
	for strings.HasPrefix(text, "!") {
		negate = !negate
		text = strings.TrimLeft(text[1:], " \t")
	}
	switch {
	case text == "":
		return fmt.Errorf("%s: empty pattern after \"!\"", p.name)
	case text[0] == '/':
		return p.addFile(text, negate, depth, classify)
	case isTableSpec(text):
		open := p.opts.OpenTable
		if open == nil {
			open = func(spec string) (maps.Table, error) { return maps.Open(spec, maps.Options{}) }
		}
		t, err := open(text)
		if err != nil {
			return fmt.Errorf("%s: %w", p.name, err)
		}
		p.items = append(p.items, item{negate: negate, table: t, fixed: maps.FixedKeys(text)})
	default:
		it, err := classify(text)
		if err != nil {
			return err
		}
		it.negate = negate
		p.items = append(p.items, it)
	}
	return nil
}

// addFile reads a /file/name item: its words (split on commas and white
// space, "#" lines skipped) are more items.
func (p *parser) addFile(path string, negate bool, depth int, classify func(string) (item, error)) error {
	if depth >= maxFileDepth {
		return fmt.Errorf("%s: %s: file nesting too deep", p.name, path)
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("%s: %w", p.name, err)
	}
	defer f.Close()
	scanner := bufio.NewScanner(f)
	scanner.Buffer(make([]byte, 0, 4096), 1<<20)
	line := 0
	for scanner.Scan() {
		line++
		text := strings.TrimSpace(scanner.Text())
		if text == "" || text[0] == '#' {
			continue
		}
		for _, word := range config.SplitList(text) {
			if err := p.add(word, negate, depth+1, classify); err != nil {
				return fmt.Errorf("%s, line %d: %w", path, line, err)
			}
		}
	}
	if err := scanner.Err(); err != nil {
		return fmt.Errorf("%s: read %s: %w", p.name, path, err)
	}
	return nil
}

// isTableSpec reports whether an item is "type:name": a colon after a
// non-empty run of letters, digits, '_' and '-', and not a bracketed
// address.
func isTableSpec(text string) bool {
	i := strings.IndexByte(text, ':')
	if i <= 0 || i == len(text)-1 {
		return false
	}
	for _, c := range text[:i] {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// closeAll closes the tables opened for the items.
func closeAll(items []item) error {
	var first error
	for _, it := range items {
		if it.table != nil {
			if err := it.table.Close(); err != nil && first == nil {
				first = err
			}
		}
	}
	return first
}
