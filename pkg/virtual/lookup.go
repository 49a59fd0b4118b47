// Recipient lookups in virtual_*_maps: full address, address without extension, then @domain.

package virtual

import (
	"fmt"
	"strings"

	"github.com/postern/postern/pkg/addr"
	"github.com/postern/postern/pkg/maps"
)

// lookupKeys are the keys tried for addr, in order: the address, the
// address without its recipient_delimiter extension, and "@domain".
// Only the first is given to pattern tables (regexp, pcre), as Postfix
// does.
func lookupKeys(address string, extensions addr.Extensions) (keys []string) {
	address = strings.ToLower(address)
	keys = append(keys, address)
	at := strings.LastIndexByte(address, '@')
	if at < 0 {
		return keys
	}
	local, domain := address[:at], address[at:]
	if base, _, ok := extensions.Split(local); ok {
		keys = append(keys, base+domain)
	}
	return append(keys, domain)
}

// isPatternTable says whether t matches patterns rather than fixed keys.
func isPatternTable(t maps.Table) bool {
	typ, _ := maps.SplitSpec(t.Spec(), "")
	return typ == "regexp" || typ == "pcre"
}

// findAddress looks addr up in tables: each key in lookupKeys order,
// each table in turn. It returns the value, the table that held it, and
// whether one was found.
func findAddress(tables []maps.Table, address string, extensions addr.Extensions) (value string, table maps.Table, found bool, err error) {
	for i, key := range lookupKeys(address, extensions) {
		for _, t := range tables {
			if i > 0 && isPatternTable(t) {
				continue
			}
			v, ok, err := t.Lookup(key)
			if err != nil {
				return "", t, false, fmt.Errorf("%s: table lookup problem: %w", t.Spec(), err)
			}
			if ok {
				return v, t, true, nil
			}
		}
	}
	return "", nil, false, nil
}
