package virtual

import (
	"strings"
	"testing"

	"github.com/postern/postern/pkg/addr"
)

// FuzzLookupKeys checks that any address gives the full address first
// and, when it has a domain, the "@domain" catch-all last.
func FuzzLookupKeys(f *testing.F) {
	f.Add("bob+ext@example.test", "+")
	f.Add("@", "")
	f.Add("a+b-c@@x", "+-")
	f.Fuzz(func(t *testing.T, address, delim string) {
		keys := lookupKeys(address, addr.Extensions{Delimiter: delim})
		if len(keys) == 0 || keys[0] != strings.ToLower(address) {
			t.Fatalf("lookupKeys(%q) = %q: full address not first", address, keys)
		}
		if at := strings.LastIndexByte(keys[0], '@'); at >= 0 && keys[len(keys)-1] != keys[0][at:] {
			t.Fatalf("lookupKeys(%q) = %q: catch-all not last", address, keys)
		}
		if len(keys) > 3 {
			t.Fatalf("lookupKeys(%q) = %q: too many keys", address, keys)
		}
	})
}
