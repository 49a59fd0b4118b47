// Fuzz test: dns_servers parsing never panics and yields host:port items.

package dnsx

import (
	"net"
	"strings"
	"testing"
)

func FuzzParseServers(f *testing.F) {
	f.Add("127.0.0.1:5353, 127.0.0.2")
	f.Add("[::1]:53")
	f.Add("::1")
	f.Fuzz(func(t *testing.T, list string) {
		servers, err := ParseServers(strings.Split(list, ","))
		if err != nil {
			return
		}
		for _, s := range servers {
			if _, _, err := net.SplitHostPort(s); err != nil {
				t.Fatalf("ParseServers(%q) gave %q: %v", list, s, err)
			}
		}
	})
}
