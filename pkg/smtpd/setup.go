// Building a Server from main.cf: settings, the recipient policy, and the cleanup connection.

package smtpd

import (
	"context"
	"time"

	"github.com/postern/postern/pkg/config"
	"github.com/postern/postern/pkg/dnsx"
	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/policy"
	"github.com/postern/postern/pkg/resolve"
	"github.com/postern/postern/pkg/sasl"
)

// CleanupService is the cleanup socket, relative to the queue directory:
// public, as in Postfix (master.cf's cleanup service has private = n).
const CleanupService = "public/cleanup"

// NewServer builds a Server from cfg: its settings, the resolver and
// recipient policy, and a cleanup client dialing cleanupPath. The function
// it also returns releases the tables.
func NewServer(cfg *config.Config, log Logger, cleanupPath string) (*Server, func() error, error) {
	set, err := FromConfig(cfg)
	if err != nil {
		return nil, nil, err
	}
	for _, w := range TLSWarnings(cfg, set) {
		log.Warning("%s", w)
	}
	locals, err := cfg.LocalAddresses()
	if err != nil {
		set.Close()
		return nil, nil, err
	}
	r, err := resolve.FromConfig(cfg, locals, policy.OpenTable)
	if err != nil {
		set.Close()
		return nil, nil, err
	}
	dns, err := dnsServers(cfg)
	if err != nil {
		set.Close()
		r.Close()
		return nil, nil, err
	}
	checker, err := policy.NewChecker(cfg, r, policy.Options{
		Warn: func(msg string) { log.Warning("%s", msg) },
		Log:  func(msg string) { log.Info("%s", msg) },
		DNS:  dns,
	})
	if err != nil {
		set.Close()
		r.Close()
		return nil, nil, err
	}
	var ipcTimeout struct {
		D time.Duration `param:"ipc_timeout"`
	}
	if cfg.Fill(&ipcTimeout) != nil {
		ipcTimeout.D = ipc.DefaultTimeout
	}
	srv := &Server{
		Settings: set,
		Policy:   checker,
		Log:      log,
		DNS:      dns,
		Resolver: r,
		DialCleanup: func(ctx context.Context) (*ipc.Conn, error) {
			c, err := ipc.Dial(ctx, cleanupPath, ipc.ProtocolCleanup)
			if err != nil {
				return nil, err
			}
			c.SetTimeout(ipcTimeout.D)
			return c, nil
		},
	}
	var saslClient *sasl.Client
	if set.SASL != nil {
		saslClient = sasl.NewClient(set.SASL.Path, 0)
		srv.SASL = saslClient
	}
	closeAll := func() error {
		if saslClient != nil {
			saslClient.Close()
			if set.SASL.Exceptions != nil {
				set.SASL.Exceptions.Close()
			}
		}
		if set.Milters != nil {
			set.Milters.Close()
		}
		err := checker.Close()
		if rerr := r.Close(); err == nil {
			err = rerr
		}
		if serr := set.Close(); err == nil {
			err = serr
		}
		return err
	}
	return srv, closeAll, nil
}

// dnsServers returns the resolver of dns_servers, nil when it is empty
// (then the system resolver and /etc/resolv.conf are used).
func dnsServers(cfg *config.Config) (*dnsx.Resolver, error) {
	items, err := cfg.List("dns_servers")
	if err != nil || len(items) == 0 {
		return nil, err
	}
	servers, err := dnsx.ParseServers(items)
	if err != nil {
		return nil, err
	}
	return dnsx.New(servers), nil
}
