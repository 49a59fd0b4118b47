// localaddrs.go gives the addresses this host receives mail on: what makes
// "user@[ip]" a local destination and what the smtp client's loop check
// compares MX hosts with.

package config

import (
	"fmt"
	"net/netip"
)

// LocalAddresses returns the addresses of inet_interfaces (limited to
// inet_protocols, as master binds them) followed by those of
// proxy_interfaces.
func (c *Config) LocalAddresses() ([]netip.Addr, error) {
	own, err := ownAddresses(c, nil)
	if err != nil {
		return nil, err
	}
	var out []netip.Addr
	for _, n := range own {
		if a, ok := netip.AddrFromSlice(n.IP); ok {
			out = append(out, a.Unmap())
		}
	}
	proxies, err := c.List("proxy_interfaces")
	if err != nil {
		return nil, err
	}
	for _, item := range proxies {
		ips, err := interfaceIPs(item)
		if err != nil {
			return nil, fmt.Errorf("proxy_interfaces: %w", err)
		}
		for _, ip := range ips {
			if a, ok := netip.AddrFromSlice(ip); ok {
				out = append(out, a.Unmap())
			}
		}
	}
	return out, nil
}
