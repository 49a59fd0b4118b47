// mynetworks.go computes the mynetworks default from mynetworks_style and
// the addresses of the interfaces that inet_interfaces/inet_protocols select.

package config

import (
	"fmt"
	"net"
	"strings"
)

// interfaceAddrs lists the host's interface addresses; replaceable by tests.
var interfaceAddrs = func() ([]*net.IPNet, error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil, fmt.Errorf("list network interfaces: %w", err)
	}
	var nets []*net.IPNet
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			nets = append(nets, n)
		}
	}
	return nets, nil
}

// lookupHost resolves inet_interfaces host names; replaceable by tests.
var lookupHost = net.LookupIP

func defaultMynetworks(c *Config, vars map[string]string) (string, error) {
	style, err := c.getWith("mynetworks_style", vars)
	if err != nil {
		return "", err
	}
	words := SplitList(style)
	for _, w := range words {
		switch w {
		case "host", "subnet", "class":
		default:
			return "", fmt.Errorf("unknown mynetworks mask style value \"%s\" in \"%s\"", w, style)
		}
	}
	if len(words) != 1 {
		return "", fmt.Errorf("bad mynetworks_style value: %s; specify exactly one value", style)
	}
	style = words[0]
	addrs, err := ownAddresses(c, vars)
	if err != nil {
		return "", err
	}
	return formatNetworks(addrs, style), nil
}

// formatNetworks prints the networks for style as Postfix does: IPv4 first,
// then IPv6 in brackets, each once.
func formatNetworks(addrs []*net.IPNet, style string) string {
	var v4, v6 []string
	seen := map[string]bool{}
	for _, a := range addrs {
		ip, mask := a.IP, a.Mask
		if ip4 := ip.To4(); ip4 != nil {
			ip = ip4
			if len(mask) == net.IPv6len {
				mask = mask[12:]
			}
		}
		bits := len(ip) * 8
		switch {
		case style == "host":
			mask = net.CIDRMask(bits, bits)
		case style == "class" && len(ip) == net.IPv4len:
			mask = classMask(ip)
		}
		ones, _ := mask.Size()
		text := fmt.Sprintf("%s/%d", ip.Mask(mask), ones)
		if len(ip) == net.IPv6len {
			text = fmt.Sprintf("[%s]/%d", ip.Mask(mask), ones)
		}
		if seen[text] {
			continue
		}
		seen[text] = true
		if len(ip) == net.IPv4len {
			v4 = append(v4, text)
		} else {
			v6 = append(v6, text)
		}
	}
	return strings.Join(append(v4, v6...), " ")
}

// classMask is the mask of the IPv4 class A, B or C network of ip; class D
// and E addresses stand for themselves.
func classMask(ip net.IP) net.IPMask {
	switch {
	case ip[0] < 128:
		return net.CIDRMask(8, 32)
	case ip[0] < 192:
		return net.CIDRMask(16, 32)
	case ip[0] < 224:
		return net.CIDRMask(24, 32)
	}
	return net.CIDRMask(32, 32)
}

// ownAddresses returns the addresses Postfix would listen on: all
// interfaces, the loopback ones, or those inet_interfaces names, limited to
// the families in inet_protocols. Each keeps its interface's netmask.
func ownAddresses(c *Config, vars map[string]string) ([]*net.IPNet, error) {
	protocols, err := c.getWith("inet_protocols", vars)
	if err != nil {
		return nil, err
	}
	want4, want6 := false, false
	for _, p := range SplitList(protocols) {
		switch strings.ToLower(p) {
		case "all":
			want4, want6 = true, true
		case "ipv4":
			want4 = true
		case "ipv6":
			want6 = true
		default:
			return nil, fmt.Errorf("bad inet_protocols value: %s", p)
		}
	}
	local, err := interfaceAddrs()
	if err != nil {
		return nil, err
	}
	ifaces, err := c.getWith("inet_interfaces", vars)
	if err != nil {
		return nil, err
	}
	var picked []*net.IPNet
	for _, item := range SplitList(ifaces) {
		switch strings.ToLower(item) {
		case "all":
			picked = append(picked, local...)
		case "loopback-only":
			for _, a := range local {
				if a.IP.IsLoopback() {
					picked = append(picked, a)
				}
			}
		default:
			ips, err := interfaceIPs(item)
			if err != nil {
				return nil, err
			}
			for _, ip := range ips {
				picked = append(picked, withLocalMask(ip, local))
			}
		}
	}
	var out []*net.IPNet
	for _, a := range picked {
		if is4 := a.IP.To4() != nil; is4 && want4 || !is4 && want6 {
			out = append(out, a)
		}
	}
	return out, nil
}

// interfaceIPs turns one inet_interfaces item (an address, optionally in
// brackets, or a host name) into addresses.
func interfaceIPs(item string) ([]net.IP, error) {
	host := strings.TrimSuffix(strings.TrimPrefix(item, "["), "]")
	if ip := net.ParseIP(host); ip != nil {
		return []net.IP{ip}, nil
	}
	ips, err := lookupHost(host)
	if err != nil {
		return nil, fmt.Errorf("host not found: %s", host)
	}
	return ips, nil
}

// withLocalMask pairs ip with the netmask of the interface that has it, or
// a host mask when no interface does.
func withLocalMask(ip net.IP, local []*net.IPNet) *net.IPNet {
	for _, a := range local {
		if a.IP.Equal(ip) {
			return a
		}
	}
	bits := 128
	if ip.To4() != nil {
		ip, bits = ip.To4(), 32
	}
	return &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)}
}
