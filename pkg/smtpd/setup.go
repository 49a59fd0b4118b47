// Building a Server from main.cf: settings, the recipient policy, and the cleanup connection.
package smtpd

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/postern/postern/pkg/config"
	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/policy"
	"github.com/postern/postern/pkg/resolve"
)

// CleanupService is the cleanup socket, relative to the queue directory:
// public, as in Postfix (master.cf's cleanup service has private = n).
const CleanupService = "public/cleanup"

// NewServer builds a Server from cfg: its settings, the resolver and
// recipient policy, and a cleanup client dialing cleanupPath. The function
// it also returns releases the tables.
func NewServer(cfg *config.Config, log Logger, cleanupPath string) (*Server, func() error, error) {
	set, err := LoadSettings(cfg)
	if err != nil {
		return nil, nil, err
	}
	locals, err := localAddresses(cfg)
	if err != nil {
		return nil, nil, err
	}
	r, err := resolve.FromConfig(cfg, locals, policy.OpenTable)
	if err != nil {
		return nil, nil, err
	}
	checker, err := policy.NewChecker(cfg, r, policy.Options{Warn: func(msg string) { log.Warning("%s", msg) }})
	if err != nil {
		r.Close()
		return nil, nil, err
	}
	ipcTimeout, err := cfg.Duration("ipc_timeout", 's')
	if err != nil {
		ipcTimeout = ipc.DefaultTimeout
	}
	srv := &Server{
		Settings: set,
		Policy:   checker,
		Log:      log,
		DialCleanup: func(ctx context.Context) (*ipc.Conn, error) {
			c, err := ipc.Dial(ctx, cleanupPath, ipc.ProtocolCleanup)
			if err != nil {
				return nil, err
			}
			c.SetTimeout(ipcTimeout)
			return c, nil
		},
	}
	closeAll := func() error {
		err := checker.Close()
		if rerr := r.Close(); err == nil {
			err = rerr
		}
		return err
	}
	return srv, closeAll, nil
}

// localAddresses returns the addresses of inet_interfaces and
// proxy_interfaces, which make user@[ip] a local destination.
func localAddresses(cfg *config.Config) ([]netip.Addr, error) {
	var out []netip.Addr
	for _, name := range []string{"inet_interfaces", "proxy_interfaces"} {
		items, err := cfg.List(name)
		if err != nil {
			return nil, err
		}
		for _, item := range items {
			switch strings.ToLower(item) {
			case "all":
				all, err := interfaceAddresses()
				if err != nil {
					return nil, err
				}
				out = append(out, all...)
			case "loopback-only":
				out = append(out, netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1"))
			default:
				if a, err := netip.ParseAddr(strings.Trim(item, "[]")); err == nil {
					out = append(out, a)
					continue
				}
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", item)
				cancel()
				if err != nil {
					return nil, fmt.Errorf("%s: host not found: %s", name, item)
				}
				out = append(out, ips...)
			}
		}
	}
	return out, nil
}

// interfaceAddresses lists the addresses of this host's interfaces.
func interfaceAddresses() ([]netip.Addr, error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil, fmt.Errorf("list network interfaces: %w", err)
	}
	var out []netip.Addr
	for _, a := range addrs {
		if p, err := netip.ParsePrefix(a.String()); err == nil {
			out = append(out, p.Addr().Unmap())
		}
	}
	return out, nil
}
