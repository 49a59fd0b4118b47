// Where inet services listen: inet_interfaces, inet_protocols and [host:]port service names.

package supervisor

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/postern/postern/pkg/config"
	"github.com/postern/postern/pkg/mastercf"
)

// protocols are the address families inet_protocols enables.
type protocols struct{ ipv4, ipv6 bool }

// parseProtocols reads inet_protocols ("all", "ipv4", "ipv6", or a list).
// With "all", IPv6 is dropped when the host cannot bind ::1, as Postfix
// drops it on a host without IPv6 support.
func parseProtocols(value string) (protocols, error) {
	var p protocols
	for _, item := range config.SplitList(value) {
		switch strings.ToLower(item) {
		case "all":
			p.ipv4, p.ipv6 = true, ipv6Available()
		case "ipv4":
			p.ipv4 = true
		case "ipv6":
			p.ipv6 = true
		default:
			return protocols{}, fmt.Errorf("bad inet_protocols parameter value: %s", value)
		}
	}
	if !p.ipv4 && !p.ipv6 {
		return protocols{}, fmt.Errorf("bad inet_protocols parameter value: %s", value)
	}
	return p, nil
}

func ipv6Available() bool {
	l, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// allows reports whether ip's family is enabled.
func (p protocols) allows(ip net.IP) bool {
	if ip.To4() != nil {
		return p.ipv4
	}
	return p.ipv6
}

// inetEndpoints returns the TCP endpoints an inet service listens on: its
// own host when the service name has one, else every inet_interfaces
// address. Port names are looked up in /etc/services.
func inetEndpoints(e *mastercf.Entry, interfaces, protocolList string) ([]endpoint, error) {
	host, portName, err := e.InetEndpoint()
	if err != nil {
		return nil, fmt.Errorf("%s: line %d: %w", e.Path, e.Line, err)
	}
	port, err := lookupPort(portName)
	if err != nil {
		return nil, err
	}
	protos, err := parseProtocols(protocolList)
	if err != nil {
		return nil, err
	}
	hosts := []string{host}
	if host == "" {
		hosts = config.SplitList(interfaces)
		if len(hosts) == 0 {
			return nil, fmt.Errorf("parameter inet_interfaces: no value")
		}
	}
	var eps []endpoint
	seen := map[string]bool{}
	add := func(network, hostPart string) {
		ep := endpoint{network: network, address: net.JoinHostPort(hostPart, port)}
		if !seen[ep.address] {
			seen[ep.address] = true
			eps = append(eps, ep)
		}
	}
	for _, h := range hosts {
		switch strings.ToLower(h) {
		case "all":
			switch {
			case protos.ipv4 && protos.ipv6:
				add("tcp", "")
			case protos.ipv4:
				add("tcp4", "0.0.0.0")
			default:
				add("tcp6", "::")
			}
			continue
		case "loopback-only":
			if protos.ipv4 {
				add("tcp4", "127.0.0.1")
			}
			if protos.ipv6 {
				add("tcp6", "::1")
			}
			continue
		}
		ips, err := resolveHost(strings.Trim(h, "[]"))
		if err != nil {
			return nil, err
		}
		matched := false
		for _, ip := range ips {
			if protos.allows(ip) {
				matched = true
				network := "tcp6"
				if ip.To4() != nil {
					network = "tcp4"
				}
				add(network, ip.String())
			}
		}
		if !matched {
			return nil, fmt.Errorf("parameter inet_interfaces: no local interface found for %s", h)
		}
	}
	return eps, nil
}

// lookupPort turns a port name or number into a number.
func lookupPort(name string) (string, error) {
	if n, err := strconv.Atoi(name); err == nil {
		if n < 0 || n > 65535 {
			return "", fmt.Errorf("bad port number: %s", name)
		}
		return name, nil
	}
	n, err := net.LookupPort("tcp", name)
	if err != nil {
		return "", fmt.Errorf("unknown service: %s/tcp", name)
	}
	return strconv.Itoa(n), nil
}

// resolveHost returns host's addresses: the host itself when it is a
// literal address, else what the resolver (/etc/hosts first) says.
func resolveHost(host string) ([]net.IP, error) {
	if ip := net.ParseIP(host); ip != nil {
		return []net.IP{ip}, nil
	}
	addrs, err := net.DefaultResolver.LookupIPAddr(context.Background(), host)
	if err != nil || len(addrs) == 0 {
		return nil, fmt.Errorf("host not found: %s", host)
	}
	ips := make([]net.IP, len(addrs))
	for i, a := range addrs {
		ips[i] = a.IP
	}
	return ips, nil
}
