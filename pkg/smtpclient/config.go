// Building the client's Config from main.cf, before the chroot.
package smtpclient

import (
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/postern/postern/pkg/config"
	"github.com/postern/postern/pkg/dnsx"
	"github.com/postern/postern/pkg/maps"
)

// ResolvConf is where the name servers come from when dns_servers is empty.
const ResolvConf = "/etc/resolv.conf"

// ConfigFromMainCF reads the smtp client's parameters, opens
// smtp_sasl_password_maps and the CA files, and finds the name servers
// (dns_servers, else /etc/resolv.conf). The returned function closes the
// tables.
func ConfigFromMainCF(cfg *config.Config) (Config, func(), error) {
	return configFromMainCF(cfg, "smtp")
}

// LMTPConfigFromMainCF is ConfigFromMainCF for the lmtp service: the
// lmtp_* parameters (lmtp_lhlo_name, lmtp_tcp_port, ...) and LMTP mode.
func LMTPConfigFromMainCF(cfg *config.Config) (Config, func(), error) {
	return configFromMainCF(cfg, "lmtp")
}

// configFromMainCF reads the parameters of protocol ("smtp" or "lmtp"),
// which name their own parameters with that prefix.
func configFromMainCF(cfg *config.Config, protocol string) (Config, func(), error) {
	c := Config{LMTP: protocol == "lmtp"}
	p := func(suffix string) string {
		if c.LMTP {
			switch suffix {
			case "_helo_name":
				suffix = "_lhlo_name"
			case "_helo_timeout":
				suffix = "_lhlo_timeout"
			}
		}
		return protocol + suffix
	}
	var err error
	get := func(name string) string {
		if err != nil {
			return ""
		}
		var v string
		v, err = cfg.Get(name)
		return v
	}
	c.MyHostname = get("myhostname")
	c.HeloName = get(p("_helo_name"))
	portName := get(p("_tcp_port"))
	level := strings.ToLower(get(p("_tls_security_level")))
	caFile, caPath := get(p("_tls_CAfile")), get(p("_tls_CApath"))
	tlsLogLevel := get(p("_tls_loglevel"))
	if err != nil {
		return Config{}, nil, err
	}
	if c.Port, err = servicePort(p("_tcp_port"), portName); err != nil {
		return Config{}, nil, err
	}
	if c.ConnectTimeout, err = cfg.Duration(p("_connect_timeout"), 's'); err != nil {
		return Config{}, nil, err
	}
	if c.CommandTimeout, err = cfg.Duration(p("_helo_timeout"), 's'); err != nil {
		return Config{}, nil, err
	}
	if c.DataTimeout, err = cfg.Duration(p("_data_done_timeout"), 's'); err != nil {
		return Config{}, nil, err
	}
	if c.SendXForward, err = cfg.Bool(p("_send_xforward_command")); err != nil {
		return Config{}, nil, err
	}
	if c.Reuse, err = cfg.Bool(p("_connection_cache_on_demand")); err != nil {
		return Config{}, nil, err
	}
	if c.CacheIdleLimit, err = cfg.Duration(p("_connection_cache_time_limit"), 's'); err != nil {
		return Config{}, nil, err
	}
	if c.ReuseTimeLimit, err = cfg.Duration(p("_connection_reuse_time_limit"), 's'); err != nil {
		return Config{}, nil, err
	}
	if c.ReuseCountLimit, err = cfg.Int(p("_connection_reuse_count_limit")); err != nil {
		return Config{}, nil, err
	}
	switch level {
	case "", "none", "may", "encrypt", "verify", "secure":
		c.TLS.Level = level
	default:
		return Config{}, nil, fmt.Errorf("unsupported %s value: %s", p("_tls_security_level"), level)
	}
	if c.TLS.LogLevel, err = strconv.Atoi(tlsLogLevel); err != nil {
		return Config{}, nil, fmt.Errorf("bad numerical configuration: %s = %s", p("_tls_loglevel"), tlsLogLevel)
	}
	if c.TLS.RootCAs, err = loadRootCAs(caFile, caPath); err != nil {
		return Config{}, nil, err
	}
	if c.OwnAddrs, err = cfg.LocalAddresses(); err != nil {
		return Config{}, nil, err
	}
	if c.Resolver, err = resolverFromConfig(cfg); err != nil {
		return Config{}, nil, err
	}
	closeTables, err := c.loadSASL(cfg, p)
	if err != nil {
		return Config{}, nil, err
	}
	return c, closeTables, nil
}

// servicePort turns smtp_tcp_port ("smtp" or a number) into a number.
func servicePort(param, name string) (string, error) {
	port, err := net.LookupPort("tcp", name)
	if err != nil {
		return "", fmt.Errorf("%s: unknown service: %s/tcp", param, name)
	}
	return strconv.Itoa(port), nil
}

// loadRootCAs reads smtp_tls_CAfile and the certificates in
// smtp_tls_CApath; with neither, the system's roots are used.
func loadRootCAs(file, dir string) (*x509.CertPool, error) {
	if file == "" && dir == "" {
		return nil, nil
	}
	pool := x509.NewCertPool()
	var files []string
	if file != "" {
		files = append(files, file)
	}
	if dir != "" {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return nil, fmt.Errorf("smtp_tls_CApath: %w", err)
		}
		for _, e := range entries {
			if !e.IsDir() {
				files = append(files, filepath.Join(dir, e.Name()))
			}
		}
	}
	for _, f := range files {
		pem, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("cannot load Certification Authority data: %w", err)
		}
		if !pool.AppendCertsFromPEM(pem) && f == file {
			return nil, fmt.Errorf("cannot load Certification Authority data, CAfile=%q: no PEM certificates", f)
		}
	}
	return pool, nil
}

// resolverFromConfig makes the DNS resolver, nil with disable_dns_lookups.
func resolverFromConfig(cfg *config.Config) (*dnsx.Resolver, error) {
	disabled, err := cfg.Bool("disable_dns_lookups")
	if err != nil || disabled {
		return nil, err
	}
	items, err := cfg.List("dns_servers")
	if err != nil {
		return nil, err
	}
	var servers []string
	if len(items) > 0 {
		servers, err = dnsx.ParseServers(items)
	} else {
		servers, err = dnsx.ServersFromResolvConf(ResolvConf)
	}
	if err != nil {
		return nil, err
	}
	r := dnsx.New(servers)
	protocols, err := cfg.List("inet_protocols")
	if err != nil {
		return nil, err
	}
	r.IPv4, r.IPv6 = false, false
	for _, p := range protocols {
		switch strings.ToLower(p) {
		case "all":
			r.IPv4, r.IPv6 = true, true
		case "ipv4":
			r.IPv4 = true
		case "ipv6":
			r.IPv6 = true
		default:
			return nil, fmt.Errorf("bad inet_protocols value: %s", p)
		}
	}
	return r, nil
}

// loadSASL reads the smtp_sasl_* parameters and opens the password maps.
func (c *Config) loadSASL(cfg *config.Config, p func(string) string) (func(), error) {
	enable, err := cfg.Bool(p("_sasl_auth_enable"))
	if err != nil {
		return nil, err
	}
	c.SASL.Enable = enable
	if c.SASL.Options, err = cfg.List(p("_sasl_security_options")); err != nil {
		return nil, err
	}
	if c.SASL.TLSOptions, err = cfg.List(p("_sasl_tls_security_options")); err != nil {
		return nil, err
	}
	closeAll := func() {
		for _, t := range c.SASL.Passwords {
			_ = t.Close()
		}
	}
	if !enable {
		return closeAll, nil
	}
	specs, err := cfg.List(p("_sasl_password_maps"))
	if err != nil {
		return nil, err
	}
	for _, spec := range specs {
		t, err := maps.Open(spec, maps.Options{})
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("%s: %w", p("_sasl_password_maps"), err)
		}
		c.SASL.Passwords = append(c.SASL.Passwords, t)
	}
	return closeAll, nil
}
