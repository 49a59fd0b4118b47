// Package maps gives every Postfix lookup table type (hash, btree, texthash,
// regexp, cidr, inline, static) one interface, and parses "type:name" specs.
package maps

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Table is an opened lookup table.
type Table interface {
	// Lookup returns the value stored for key. found is false when the
	// table has no entry; err reports a table that cannot be read.
	Lookup(key string) (value string, found bool, err error)
	// Spec returns the table's "type:name" as it was opened.
	Spec() string
	// Close releases the table's resources.
	Close() error
}

// Options change how a table is opened.
type Options struct {
	// NoFold keeps keys as given instead of folding them to lower case
	// (postmap -f). Types whose patterns carry their own case rules
	// (regexp, cidr) ignore it.
	NoFold bool
	// UTF8 is SMTPUTF8 mode (smtputf8_enable = yes, Postfix's default
	// from compatibility_level 1 on): keys are folded with Unicode full
	// case folding instead of ASCII only, source lines that are not valid
	// UTF-8 are skipped with a warning, and such keys are never found.
	UTF8 bool
	// NoRegexpSubstitution is Postfix's paranoid open (DICT_FLAG_PARANOID,
	// as virtual(8) and local(8) use it): a regexp rule whose result uses
	// $1 ... is skipped with a warning, so that no part of an address
	// reaches a file name or a command through a table.
	NoRegexpSubstitution bool
}

// Opener opens the table called name (the part after "type:").
type Opener func(name string, opts Options) (Table, error)

// ErrUnsupported is wrapped by errors for a type that is not registered.
var ErrUnsupported = errors.New("unsupported dictionary type")

var (
	registryMu sync.RWMutex
	registry   = map[string]Opener{}
)

// Register makes a table type available to Open. It panics on a
// duplicate type, which is a programming error.
func Register(typ string, open Opener) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, dup := registry[typ]; dup {
		panic("maps: type registered twice: " + typ)
	}
	registry[typ] = open
}

// Types lists the registered table types, sorted, as `postconf -m` prints them.
func Types() []string {
	registryMu.RLock()
	defer registryMu.RUnlock()
	types := make([]string, 0, len(registry))
	for t := range registry {
		types = append(types, t)
	}
	sort.Strings(types)
	return types
}

// Registered reports whether typ is a registered table type.
func Registered(typ string) bool {
	registryMu.RLock()
	defer registryMu.RUnlock()
	_, ok := registry[typ]
	return ok
}

// SplitSpec splits "type:name" into its parts. A spec without a colon
// (or one that starts with "/") uses defaultType, as postmap does.
func SplitSpec(spec, defaultType string) (typ, name string) {
	if i := strings.IndexByte(spec, ':'); i > 0 && !strings.HasPrefix(spec, "/") {
		return spec[:i], spec[i+1:]
	}
	return defaultType, spec
}

// FixedKeys reports whether a table of spec's type holds plain string
// keys and so gets Postfix's partial lookups (user@, @domain, parent
// domains, network prefixes). Pattern types (regexp, pcre, cidr, static,
// tcp, socketmap; Postfix's DICT_FLAG_PATTERN tables) get whole queries
// only. A proxy: prefix is looked through.
func FixedKeys(spec string) bool {
	typ, _ := SplitSpec(strings.TrimPrefix(spec, "proxy:"), "")
	switch typ {
	case "regexp", "pcre", "cidr", "static", "tcp", "socketmap":
		return false
	}
	return true
}

// Open opens a "type:name" table. The type and the name must be given.
func Open(spec string, opts Options) (Table, error) {
	i := strings.IndexByte(spec, ':')
	if i <= 0 || i == len(spec)-1 {
		return nil, fmt.Errorf("open dictionary: expecting \"type:name\" form instead of %q", spec)
	}
	typ, name := spec[:i], spec[i+1:]
	registryMu.RLock()
	open, ok := registry[typ]
	registryMu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrUnsupported, typ)
	}
	return open(name, opts)
}
