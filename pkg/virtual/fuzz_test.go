package virtual

import (
	"strings"
	"testing"
)

// FuzzLookupKeys checks that any address gives the full address first
// and, when it has a domain, the "@domain" catch-all last.
func FuzzLookupKeys(f *testing.F) {
	f.Add("bob+ext@example.test", "+")
	f.Add("@", "")
	f.Add("a+b-c@@x", "+-")
	f.Fuzz(func(t *testing.T, addr, delim string) {
		keys := lookupKeys(addr, delim)
		if len(keys) == 0 || keys[0] != strings.ToLower(addr) {
			t.Fatalf("lookupKeys(%q) = %q: full address not first", addr, keys)
		}
		if at := strings.LastIndexByte(keys[0], '@'); at >= 0 && keys[len(keys)-1] != keys[0][at:] {
			t.Fatalf("lookupKeys(%q) = %q: catch-all not last", addr, keys)
		}
		if len(keys) > 3 {
			t.Fatalf("lookupKeys(%q) = %q: too many keys", addr, keys)
		}
	})
}
