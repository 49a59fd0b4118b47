// Fuzz test of transport_maps results and next-hop syntax: any table value gives a channel or an error, never a panic.

package resolve

import (
	"testing"

	"github.com/postern/postern/pkg/addr"
	"github.com/postern/postern/pkg/maps"
)

// valueTable answers every key with one value.
type valueTable struct{ value string }

func (v valueTable) Lookup(string) (string, bool, error) { return v.value, true, nil }
func (valueTable) Spec() string                          { return "inline:{fuzz}" }
func (valueTable) Close() error                          { return nil }

func FuzzTransport(f *testing.F) {
	f.Add("smtp:[mx.example]:587", "user+ext", "example.com")
	f.Add(":", "a", "b")
	f.Add("relay:", "postmaster", "")
	f.Add("error:5.1.2 no such domain", "x", "y.example")
	f.Add("lmtp:unix:private/dovecot-lmtp", "u", "d")
	f.Add("smtp:[ipv6:2001:db8::1]:25, [", "u", "d")
	f.Fuzz(func(t *testing.T, value, local, domain string) {
		tm := NewTransportMaps([]maps.Table{valueTable{value}})
		res := &Result{Address: addr.Address{Local: local, Domain: domain}, Transport: "smtp", Nexthop: domain}
		if err := tm.apply(res, addr.Extensions{Delimiter: "+-", OwnerRequestSpecial: true, DoubleBounceSender: "double-bounce"}); err != nil {
			return
		}
		for _, hop := range SplitNexthops(res.Nexthop) {
			ParseDestination(hop)
		}
		ParseErrorNexthop(res.Nexthop, "5.0.0")
	})
}
