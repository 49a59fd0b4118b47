// Building the client's Config from main.cf, before the chroot.

package smtpclient

import (
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/postern/postern/pkg/config"
	"github.com/postern/postern/pkg/dnsx"
	"github.com/postern/postern/pkg/maps"
	"github.com/postern/postern/pkg/match"
	"github.com/postern/postern/pkg/queue"
	"github.com/postern/postern/pkg/resolve"
	"github.com/postern/postern/pkg/tlsconf"
)

// ResolvConf is where the name servers come from when dns_servers is empty.
const ResolvConf = "/etc/resolv.conf"

// derivedParams are the parameters FromConfig turns into settings.
type derivedParams struct {
	Port          string   `param:"smtp_tcp_port"`
	CAFile        string   `param:"smtp_tls_CAfile"`
	CAPath        string   `param:"smtp_tls_CApath"`
	DisableDNS    bool     `param:"disable_dns_lookups"`
	DNSServers    []string `param:"dns_servers"`
	InetProtocols []string `param:"inet_protocols"`
	PasswordMaps  []string `param:"smtp_sasl_password_maps"`
	CacheDests    []string `param:"smtp_connection_cache_destinations"`
	TLSPolicyMaps []string `param:"smtp_tls_policy_maps"`
	GenericMaps   []string `param:"smtp_generic_maps"`
	Propagate     []string `param:"propagate_unmatched_extensions"`
	// CleanupService and IPCTimeout are for posting the postmaster's
	// transcripts (notify.go).
	CleanupService string        `param:"cleanup_service_name"`
	IPCTimeout     time.Duration `param:"ipc_timeout"`
}

// FromConfig reads the smtp client's parameters, opens
// smtp_sasl_password_maps and the CA files, and finds the name servers
// (dns_servers, else /etc/resolv.conf). The returned function closes the
// tables.
func FromConfig(cfg *config.Config) (Config, func(), error) {
	return fromConfig(cfg, "smtp")
}

// LMTPFromConfig is FromConfig for the lmtp service: the lmtp_*
// parameters (lmtp_lhlo_name, lmtp_tcp_port, ...) and LMTP mode.
func LMTPFromConfig(cfg *config.Config) (Config, func(), error) {
	return fromConfig(cfg, "lmtp")
}

// lmtpName is the lmtp_* parameter that Postfix's smtp(8) reads in LMTP
// mode where it reads name in SMTP mode.
func lmtpName(name string) string {
	switch name {
	case "smtp_helo_name":
		return "lmtp_lhlo_name"
	case "smtp_helo_timeout":
		return "lmtp_lhlo_timeout"
	}
	if rest, ok := strings.CutPrefix(name, "smtp_"); ok {
		return "lmtp_" + rest
	}
	return name
}

// fromConfig reads the parameters of protocol ("smtp" or "lmtp"), which
// name their own parameters with that prefix.
func fromConfig(cfg *config.Config, protocol string) (Config, func(), error) {
	c := Config{LMTP: protocol == "lmtp"}
	var p derivedParams
	rename := func(name string) string { return name }
	if c.LMTP {
		rename = lmtpName
	}
	if err := cfg.FillWith(&c, rename); err != nil {
		return Config{}, nil, err
	}
	if err := cfg.FillWith(&p, rename); err != nil {
		return Config{}, nil, err
	}
	c.PostNotice = postNoticeVia(filepath.Join(queue.PublicDir, p.CleanupService), p.IPCTimeout)
	var err error
	if c.Port, err = servicePort(protocol+"_tcp_port", p.Port); err != nil {
		return Config{}, nil, err
	}
	if err := c.TLS.check(); err != nil {
		return Config{}, nil, err
	}
	if c.TLS.RootCAs, err = tlsconf.LoadCAs(protocol, p.CAFile, p.CAPath); err != nil {
		return Config{}, nil, err
	}
	if c.OwnAddrs, err = cfg.LocalAddresses(); err != nil {
		return Config{}, nil, err
	}
	if !p.DisableDNS {
		if c.Resolver, err = newResolver(p.DNSServers, p.InetProtocols); err != nil {
			return Config{}, nil, err
		}
	}
	closeTables, err := c.openPasswordMaps(protocol+"_sasl_password_maps", p.PasswordMaps)
	if err != nil {
		return Config{}, nil, err
	}
	if len(p.CacheDests) > 0 {
		name := protocol + "_connection_cache_destinations"
		if c.CacheDestinations, err = match.NewDomainList(name, p.CacheDests, match.Options{}); err != nil {
			closeTables()
			return Config{}, nil, err
		}
		closePasswords := closeTables
		closeTables = func() {
			closePasswords()
			_ = c.CacheDestinations.Close()
		}
	}
	if len(p.GenericMaps) > 0 {
		closeOthers := closeTables
		closeGeneric, err := c.openGenericMaps(cfg, protocol+"_generic_maps", p)
		if err != nil {
			closeOthers()
			return Config{}, nil, err
		}
		closeTables = func() {
			closeOthers()
			closeGeneric()
		}
	}
	closePolicies, err := c.TLS.openPolicyMaps(protocol+"_tls_policy_maps", p.TLSPolicyMaps)
	if err != nil {
		closeTables()
		return Config{}, nil, err
	}
	return c, func() { closeTables(); closePolicies() }, nil
}

// openGenericMaps opens smtp_generic_maps (named param) and the resolver
// that tells local domains.
func (c *Config) openGenericMaps(cfg *config.Config, param string, p derivedParams) (func(), error) {
	g := &GenericMaps{}
	for _, v := range p.Propagate {
		g.Propagate = g.Propagate || v == "generic"
	}
	closeAll := func() {
		for _, t := range g.Tables {
			_ = t.Close()
		}
	}
	for _, spec := range p.GenericMaps {
		t, err := maps.Open(spec, maps.Options{})
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("%s: %w", param, err)
		}
		g.Tables = append(g.Tables, t)
	}
	r, err := resolve.FromConfig(cfg, c.OwnAddrs, nil)
	if err != nil {
		closeAll()
		return nil, err
	}
	g.AddressFinder = r.AddressFinder()
	c.Generic = g
	return func() {
		closeAll()
		_ = r.Close()
	}, nil
}

// servicePort turns smtp_tcp_port ("smtp" or a number) into a number.
func servicePort(param, name string) (string, error) {
	port, err := net.LookupPort("tcp", name)
	if err != nil {
		return "", fmt.Errorf("%s: unknown service: %s/tcp", param, name)
	}
	return strconv.Itoa(port), nil
}

// newResolver makes the DNS resolver for dns_servers (else
// /etc/resolv.conf) and inet_protocols.
func newResolver(items, protocols []string) (*dnsx.Resolver, error) {
	var servers []string
	var err error
	if len(items) > 0 {
		servers, err = dnsx.ParseServers(items)
	} else {
		servers, err = dnsx.ServersFromResolvConf(ResolvConf)
	}
	if err != nil {
		return nil, err
	}
	r := dnsx.New(servers)
	if err := r.SetProtocols(protocols); err != nil {
		return nil, err
	}
	return r, nil
}

// openPasswordMaps opens the password maps (smtp_sasl_password_maps,
// named param) when SASL is enabled.
func (c *Config) openPasswordMaps(param string, specs []string) (func(), error) {
	closeAll := func() {
		for _, t := range c.SASL.Passwords {
			_ = t.Close()
		}
	}
	if !c.SASL.Enable {
		return closeAll, nil
	}
	for _, spec := range specs {
		t, err := maps.Open(spec, maps.Options{})
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("%s: %w", param, err)
		}
		c.SASL.Passwords = append(c.SASL.Passwords, t)
	}
	return closeAll, nil
}
