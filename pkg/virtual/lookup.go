// Recipient lookups in virtual_*_maps: full address, address without extension, then @domain.

package virtual

import (
	"fmt"
	"strings"

	"github.com/postern/postern/pkg/maps"
)

// lookupKeys are the keys tried for addr, in order: the address, the
// address without its recipient_delimiter extension, and "@domain".
// Only the first is given to pattern tables (regexp, pcre), as Postfix
// does.
func lookupKeys(addr, delimiters string) (keys []string) {
	addr = strings.ToLower(addr)
	keys = append(keys, addr)
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return keys
	}
	local, domain := addr[:at], addr[at:]
	if delimiters != "" {
		if i := strings.IndexAny(local, delimiters); i > 0 {
			keys = append(keys, local[:i]+domain)
		}
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
func findAddress(tables []maps.Table, addr, delimiters string) (value string, table maps.Table, found bool, err error) {
	for i, key := range lookupKeys(addr, delimiters) {
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
