// Tests of which table types get Postfix's partial lookups.

package maps

import "testing"

func TestFixedKeys(t *testing.T) {
	for spec, want := range map[string]bool{
		"hash:/etc/postfix/access":        true,
		"btree:/var/lib/postfix/cache":    true,
		"texthash:/etc/postfix/transport": true,
		"inline:{ a=b }":                  true,
		"proxy:hash:/etc/postfix/access":  true,
		"regexp:/etc/postfix/generic":     false,
		"pcre:/etc/postfix/generic":       false,
		"cidr:/etc/postfix/clients":       false,
		"static:OK":                       false,
		"proxy:regexp:/etc/postfix/x":     false,
		"tcp:127.0.0.1:9000":              false,
		"socketmap:inet:127.0.0.1:9000:x": false,
	} {
		if got := FixedKeys(spec); got != want {
			t.Errorf("FixedKeys(%q) = %v, want %v", spec, got, want)
		}
	}
}
