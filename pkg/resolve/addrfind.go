// Address-keyed table lookups in the order of Postfix's mail_addr_find,
// for every table keyed by a mail address: sender_dependent_*_maps,
// smtpd_sender_login_maps, smtp_generic_maps, canonical_maps and
// virtual_alias_maps.

package resolve

import (
	"strings"

	"github.com/postern/postern/pkg/addr"
	"github.com/postern/postern/pkg/maps"
)

// AddressFinder searches tables for an address as mail_addr_find does
// with its default strategy.
type AddressFinder struct {
	// Extensions are recipient_delimiter and the local parts it does
	// not split.
	Extensions addr.Extensions
	// MyOrigin is myorigin: its domain counts as local.
	MyOrigin string
	// IsLocal reports whether a domain is in $mydestination or is an
	// address literal of this host; nil means no domain is.
	IsLocal func(domain string) (bool, error)
}

// AddressFinder returns the finder with the resolver's
// recipient_delimiter, myorigin and local domains.
func (r *Resolver) AddressFinder() AddressFinder {
	return AddressFinder{Extensions: r.s.Extensions, MyOrigin: r.s.MyOrigin, IsLocal: r.IsLocalDomain}
}

// AddressKey is one lookup key of an address.
type AddressKey struct {
	Key string
	// Partial keys (all but the whole address) are looked up in tables
	// with fixed keys only, never in pattern tables.
	Partial bool
	// ExtensionCut is true when the key lacks the address extension,
	// which the result may get back (propagate_unmatched_extensions).
	ExtensionCut bool
}

// AddressMatch is what a search found: the value and the key that
// found it. After a lookup error it names the failing table and key.
type AddressMatch struct {
	Value string
	Key   AddressKey
	Table maps.Table
	// Extension is the address extension, delimiter included ("" for
	// none).
	Extension string
}

// Keys lists the keys of an internal-form address in mail_addr_find's
// order: user+ext@domain, user@domain, then, when the domain is local
// ($myorigin, $mydestination or an address literal of this host),
// user+ext and user, then @domain. An address without "@" has only the
// first two. Keys keep their case: tables fold them as Postfix's do
// (fixed-key tables fold, pattern tables match as they are written).
// The extension, delimiter included, comes back too.
func (f AddressFinder) Keys(address string) ([]AddressKey, string, error) {
	at := strings.LastIndexByte(address, '@')
	local, domain := address, ""
	if at >= 0 {
		local, domain = address[:at], address[at+1:]
	}
	bare := f.Extensions.Strip(local)
	ext := local[len(bare):]
	keys := []AddressKey{{Key: address}}
	if ext != "" {
		keys = append(keys, AddressKey{Key: bare + address[len(local):], Partial: true, ExtensionCut: true})
	}
	if at < 0 {
		return keys, ext, nil
	}
	isLocal, err := f.localDomain(domain)
	if err != nil {
		return nil, "", err
	}
	if isLocal {
		keys = append(keys, AddressKey{Key: local, Partial: true})
		if ext != "" {
			keys = append(keys, AddressKey{Key: bare, Partial: true, ExtensionCut: true})
		}
	}
	return append(keys, AddressKey{Key: "@" + domain, Partial: true, ExtensionCut: ext != ""}), ext, nil
}

// localDomain reports whether the local part alone is a key for an
// address in domain: it is $myorigin (compared as written, case
// ignored) or a local destination.
func (f AddressFinder) localDomain(domain string) (bool, error) {
	if addr.FoldDomain(domain) == addr.FoldDomain(f.MyOrigin) {
		return true, nil
	}
	if f.IsLocal == nil {
		return false, nil
	}
	return f.IsLocal(domain)
}

// Find searches tables for address, each key in every table before the
// next key, and returns the first value found.
func (f AddressFinder) Find(tables []maps.Table, address string) (AddressMatch, bool, error) {
	if len(tables) == 0 {
		return AddressMatch{}, false, nil
	}
	keys, ext, err := f.Keys(address)
	if err != nil {
		return AddressMatch{}, false, err
	}
	m, found, err := FindKeys(tables, keys)
	m.Extension = ext
	return m, found, err
}

// FindKeys searches tables for keys in order, each key in every table
// before the next, a partial key only in tables with fixed keys.
func FindKeys(tables []maps.Table, keys []AddressKey) (AddressMatch, bool, error) {
	for _, k := range keys {
		for _, t := range tables {
			if k.Partial && !maps.FixedKeys(t.Spec()) {
				continue
			}
			v, ok, err := t.Lookup(k.Key)
			if err != nil {
				return AddressMatch{Key: k, Table: t}, false, err
			}
			if ok {
				return AddressMatch{Value: v, Key: k, Table: t}, true, nil
			}
		}
	}
	return AddressMatch{}, false, nil
}
