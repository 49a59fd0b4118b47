// Deciding which SMTP clients get local header treatment (local_header_rewrite_clients).

package cleanup

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/maps"
	"github.com/postern/postern/pkg/match"
)

// RewriteClients evaluates local_header_rewrite_clients: mail from a
// matching SMTP client has its header addresses rewritten in the local
// context and gets missing headers added, as a local submission does.
//
// permit_tls_clientcerts and permit_tls_all_clientcerts never match:
// the cleanup submission carries no client certificate information.
type RewriteClients struct {
	rules []clientRule
}

// clientRule is one element of the list: the field that is set says
// which; a rule with none set is permit_inet_interfaces.
type clientRule struct {
	inetInterfaces []netip.Addr
	mynetworks     *match.NetworkList
	sasl           bool
	addressMap     maps.Table
	never          bool
}

// RewriteClientsConfig is what NewRewriteClients needs besides the list.
type RewriteClientsConfig struct {
	LocalAddresses []netip.Addr // the addresses of inet_interfaces
	MyNetworks     []string     // mynetworks, used by permit_mynetworks
	// OpenTable opens check_address_map tables; nil means maps.Open.
	OpenTable func(spec string) (maps.Table, error)
}

// NewRewriteClients parses the local_header_rewrite_clients list. Close
// releases the tables it opened.
func NewRewriteClients(list []string, cfg RewriteClientsConfig) (*RewriteClients, error) {
	open := cfg.OpenTable
	if open == nil {
		open = func(spec string) (maps.Table, error) { return maps.Open(spec, maps.Options{}) }
	}
	rc := &RewriteClients{}
	fail := func(err error) (*RewriteClients, error) {
		rc.Close()
		return nil, err
	}
	for i := 0; i < len(list); i++ {
		name := strings.ToLower(list[i])
		switch {
		case name == "permit_inet_interfaces":
			rc.rules = append(rc.rules, clientRule{inetInterfaces: cfg.LocalAddresses})
		case name == "permit_mynetworks":
			networks, err := match.NewNetworkList("mynetworks", cfg.MyNetworks, match.Options{OpenTable: cfg.OpenTable})
			if err != nil {
				return fail(err)
			}
			rc.rules = append(rc.rules, clientRule{mynetworks: networks})
		case name == "permit_sasl_authenticated":
			rc.rules = append(rc.rules, clientRule{sasl: true})
		case name == "permit_tls_clientcerts" || name == "permit_tls_all_clientcerts":
			rc.rules = append(rc.rules, clientRule{never: true})
		case name == "check_address_map" || strings.Contains(list[i], ":"):
			spec := list[i]
			if name == "check_address_map" {
				if i+1 >= len(list) {
					return fail(fmt.Errorf("local_header_rewrite_clients: restriction %s needs a table argument", list[i]))
				}
				i++
				spec = list[i]
			}
			table, err := open(spec)
			if err != nil {
				return fail(fmt.Errorf("local_header_rewrite_clients: %w", err))
			}
			rc.rules = append(rc.rules, clientRule{addressMap: table})
		default:
			return fail(fmt.Errorf("local_header_rewrite_clients: unknown restriction: \"%s\"", list[i]))
		}
	}
	return rc, nil
}

// Match reports whether the SMTP client of sub is in the list. A local
// submission (no client address) never matches here; callers treat it
// as local on its own.
func (rc *RewriteClients) Match(sub *ipc.CleanupSubmission) (bool, error) {
	if rc == nil || sub.ClientAddress == "" {
		return false, nil
	}
	ip, ipErr := netip.ParseAddr(sub.ClientAddress)
	if ipErr == nil {
		ip = ip.Unmap()
	}
	for _, r := range rc.rules {
		switch {
		case r.never:
			continue
		case r.sasl:
			if sub.SASLUsername != "" {
				return true, nil
			}
		case r.mynetworks != nil:
			ok, err := r.mynetworks.Match(sub.ClientName, sub.ClientAddress)
			if err != nil || ok {
				return ok, err
			}
		case r.addressMap != nil:
			_, found, err := r.addressMap.Lookup(sub.ClientAddress)
			if err != nil {
				return false, fmt.Errorf("local_header_rewrite_clients: %s: %w", r.addressMap.Spec(), err)
			}
			if found {
				return true, nil
			}
		default:
			for _, local := range r.inetInterfaces {
				if ipErr == nil && local == ip.WithZone("") {
					return true, nil
				}
			}
		}
	}
	return false, nil
}

// Close releases the tables of the list.
func (rc *RewriteClients) Close() error {
	if rc == nil {
		return nil
	}
	var first error
	for _, r := range rc.rules {
		var err error
		switch {
		case r.mynetworks != nil:
			err = r.mynetworks.Close()
		case r.addressMap != nil:
			err = r.addressMap.Close()
		}
		if err != nil && first == nil {
			first = err
		}
	}
	return first
}
