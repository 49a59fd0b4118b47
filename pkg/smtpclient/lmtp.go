// LMTP mode (the lmtp service): next hops "unix:path", "inet:host:port"
// and "host[:port]" without MX lookups, and one reply per recipient
// after the end of the message (RFC 2033).

package smtpclient

import (
	"context"
	"fmt"
	"strings"

	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/resolve"
)

// lmtpTargets resolves one LMTP destination. A relative socket path is
// relative to the queue directory, the agent's working directory.
func (c *Client) lmtpTargets(ctx context.Context, dest string) ([]target, verdict, bool) {
	if path, ok := strings.CutPrefix(dest, "unix:"); ok {
		if path == "" {
			return nil, bounced("5.3.5", fmt.Sprintf("bad nexthop destination %q", dest)), false
		}
		return []target{{host: c.cfg.MyHostname, path: path, nexthop: dest, destHost: path}}, verdict{}, true
	}
	hostPort := strings.TrimPrefix(dest, "inet:")
	d, ok := resolve.ParseDestination(hostPort)
	if !ok {
		return nil, bounced("5.3.5", fmt.Sprintf("bad nexthop destination %q", dest)), false
	}
	d.NoMX = true
	port := d.Port
	if port == "" {
		port = c.cfg.Port
	}
	hosts, err := c.lookup(ctx, d)
	if err != nil {
		return nil, lookupVerdict(err), false
	}
	var targets []target
	for _, h := range hosts {
		for _, a := range h.Addrs {
			targets = append(targets, target{host: h.Name, addr: a, port: port, nexthop: dest, destHost: d.Host})
		}
	}
	return targets, verdict{}, true
}

// lhlo greets an LMTP server, which has no HELO to fall back to.
func (s *session) lhlo() (v verdict, done, ok bool) {
	reply, err := s.command(s.client.cfg.CommandTimeout, "sending LHLO", "LHLO %s", s.client.cfg.HeloName)
	if err != nil {
		return s.lostConnection("performing the LHLO handshake", err), false, false
	}
	if reply.Class() != 2 {
		v := s.rejected(reply, "LHLO")
		return v, v.status == ipc.StatusBounced, false
	}
	s.ext = map[string]string{}
	for _, line := range reply.Lines[1:] {
		keyword, params, _ := strings.Cut(line, " ")
		s.ext[strings.ToUpper(keyword)] = params
	}
	return verdict{}, false, true
}
