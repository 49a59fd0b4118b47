// The client's host names, found as Postfix's smtpd finds them: the PTR
// name of the address (the "reverse" name), which counts as the client
// name only when it resolves back to the address.

package smtpd

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/postern/postern/pkg/addr"
	"github.com/postern/postern/pkg/dnsx"
	"github.com/postern/postern/pkg/policy"
)

// ClientName is what the name lookups of a client address found.
type ClientName struct {
	Name          string // the verified name, or "unknown"
	Status        policy.PeerStatus
	Reverse       string // the PTR name, unverified, or "unknown"
	ReverseStatus policy.PeerStatus
}

// nameLookupTimeout bounds the reverse and forward lookups.
const nameLookupTimeout = 10 * time.Second

// lookupClientName does the reverse lookup, then the forward check: a
// PTR name that does not resolve, or not to the client address, leaves
// the client "unknown" (with a warning, as Postfix logs it).
func (srv *Server) lookupClientName(ctx context.Context, ip string) ClientName {
	ctx, cancel := context.WithTimeout(ctx, nameLookupTimeout)
	defer cancel()
	unknown := ClientName{Name: "unknown", Status: policy.PeerPerm, Reverse: "unknown", ReverseStatus: policy.PeerPerm}
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return unknown
	}
	names, status := srv.reverseLookup(ctx, a)
	if status != dnsx.Found || len(names) == 0 {
		if status == dnsx.Retry {
			unknown.Status, unknown.ReverseStatus = policy.PeerTemp, policy.PeerTemp
		}
		return unknown
	}
	name := strings.TrimSuffix(names[0], ".")
	if !addr.ValidHostname(name) {
		return unknown
	}
	result := ClientName{Name: "unknown", Status: policy.PeerPerm, Reverse: name}
	addrs, status := srv.forwardLookup(ctx, name)
	if status != dnsx.Found {
		text := "Name or service not known"
		if status == dnsx.Retry {
			result.Status = policy.PeerTemp
			text = "Temporary failure in name resolution"
		}
		srv.Log.Warning("hostname %s does not resolve to address %s: %s", name, ip, text)
		return result
	}
	for _, b := range addrs {
		if b.Unmap() == a.Unmap() {
			result.Name, result.Status = name, policy.PeerOK
			return result
		}
	}
	srv.Log.Warning("hostname %s does not resolve to address %s", name, ip)
	return result
}

// reverseLookup finds the PTR names of an address.
func (srv *Server) reverseLookup(ctx context.Context, a netip.Addr) ([]string, dnsx.Status) {
	if srv.DNS != nil {
		return srv.DNS.LookupPTR(ctx, a)
	}
	names, err := net.DefaultResolver.LookupAddr(ctx, a.String())
	return names, systemStatus(err, len(names))
}

// forwardLookup finds the addresses of a host name.
func (srv *Server) forwardLookup(ctx context.Context, name string) ([]netip.Addr, dnsx.Status) {
	if srv.DNS != nil {
		return srv.DNS.LookupHostAddrs(ctx, name)
	}
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", name)
	return addrs, systemStatus(err, len(addrs))
}

// systemStatus classifies a system resolver result.
func systemStatus(err error, n int) dnsx.Status {
	if err == nil && n > 0 {
		return dnsx.Found
	}
	if de, ok := err.(*net.DNSError); ok && (de.IsTemporary || de.IsTimeout) {
		return dnsx.Retry
	}
	return dnsx.NotFound
}
