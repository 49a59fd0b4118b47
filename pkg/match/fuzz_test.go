// Fuzz test of domain and network lists: any list text and any subject give an answer or an error, never a panic.

package match

import (
	"errors"
	"strings"
	"testing"

	"github.com/postern/postern/pkg/maps"
)

// fuzzTables opens only in-line tables: a fuzzed list must not read files.
func fuzzTables(spec string) (maps.Table, error) {
	for _, p := range []string{"inline:{", "static:", "regexp:{", "cidr:{"} {
		if strings.HasPrefix(spec, p) {
			return maps.Open(spec, maps.Options{})
		}
	}
	return nil, errors.New("not opened in a fuzz test")
}

func FuzzLists(f *testing.F) {
	f.Add("example.com, !bad.example.com, .example.net inline:{a.example=ok}", "mail.example.com", "192.0.2.1", false)
	f.Add("127.0.0.0/8 [::1]/128 !10.0.0.0/8 10.0.0.0/8 cidr:{ {192.0.2.0/24 ok} }", "host.example", "10.1.2.3", true)
	f.Add("[2001:db8::]/32, regexp:{ {/^x/ ok} }, static:yes", "xhost", "2001:db8::1", false)
	f.Add("!!, [, ], /, !, ., *.example, 1.2.3.4/99", "", "not-an-ip", true)
	f.Fuzz(func(t *testing.T, list, host, ip string, parent bool) {
		items := strings.FieldsFunc(list, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' })
		opts := Options{ParentStyle: parent, OpenTable: fuzzTables}
		if d, err := NewDomainList("fuzz_domains", items, opts); err == nil {
			d.Match(host)
			d.Close()
		}
		if n, err := NewNetworkList("fuzz_networks", items, opts); err == nil {
			n.Match(host, ip)
			n.Close()
		}
	})
}
