// registry_test.go checks the parameter table, Postern's own defaults and
// the defaults derived from the host.

package config

import (
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
)

func TestDefaults(t *testing.T) {
	c := testConfig(t)
	tests := []struct{ name, want string }{
		{"mail_name", "Postern"},
		{"compatibility_level", "3.6"},
		{"dns_servers", ""},
		{"mail_version", Version},
		{"smtpd_banner", "$myhostname ESMTP $mail_name"},
		{"relay_domains", "${{$compatibility_level} <level {2} ? {$mydestination} : {}}"},
		{"parent_domain_matches_subdomains", "debug_peer_list,fast_flush_domains,mynetworks,permit_mx_backup_networks,qmqpd_authorized_clients,relay_domains,smtpd_access_maps"},
		{"maximal_queue_lifetime", "5d"},
		{"config_directory", "/etc/postfix"},
		{"process_id", strconv.Itoa(os.Getpid())},
		{"myhostname", "mx.test.example"},
		{"mydomain", "test.example"},
	}
	for _, tt := range tests {
		got, ok, err := c.Default(tt.name)
		if err != nil || !ok || got != tt.want {
			t.Errorf("Default(%s) = %q, %v, %v; want %q", tt.name, got, ok, err, tt.want)
		}
	}
	if _, ok, _ := c.Default("no_such_parameter"); ok {
		t.Error("unknown parameter has a default")
	}
	if n := len(Names()); n < 800 {
		t.Errorf("only %d parameters known", n)
	}
	if !IsRaw("forward_path") || IsRaw("myorigin") {
		t.Error("raw parameter table wrong")
	}
	if p, ok := Lookup("dns_servers"); !ok || p.Kind != KindString {
		t.Errorf("Lookup(dns_servers) = %+v, %v", p, ok)
	}
}

func TestEffectiveDefaults(t *testing.T) {
	c := testConfig(t)
	for name, want := range map[string]string{
		"relay_domains":            "",
		"smtpd_relay_restrictions": "permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination",
		"mydestination":            "mx.test.example, localhost.test.example, localhost",
		"smtpd_banner":             "mx.test.example ESMTP Postern",
		"smtpd_timeout":            "300s",
		"mynetworks_style":         "host",
	} {
		if got, err := c.Get(name); err != nil || got != want {
			t.Errorf("Get(%s) = %q, %v; want %q", name, got, err, want)
		}
	}
}

func TestHostNameDefaults(t *testing.T) {
	tests := []struct {
		host     string
		settings []string
		hostname string
		domain   string
	}{
		{"vm", nil, "vm.localdomain", "localdomain"},
		{"mail.example.com", nil, "mail.example.com", "example.com"},
		{"vm", []string{"mydomain=d.example"}, "vm.d.example", "d.example"},
		{"vm", []string{"myhostname=h.example"}, "h.example", "example"},
		{"vm", []string{"myhostname=h"}, "h", "localdomain"},
		{"vm", []string{"myhostname=$foo.example", "foo=bar"}, "bar.example", "example"},
	}
	for _, tt := range tests {
		c := testConfig(t, tt.settings...)
		fakeHost(t, tt.host)
		h, err1 := c.Get("myhostname")
		d, err2 := c.Get("mydomain")
		if err1 != nil || err2 != nil || h != tt.hostname || d != tt.domain {
			t.Errorf("host %q %v: myhostname=%q mydomain=%q (%v %v), want %q %q", tt.host, tt.settings, h, d, err1, err2, tt.hostname, tt.domain)
		}
	}
}

// fakeInterfaces gives the host lo 127.0.0.1/8, ::1 and eth0 192.0.2.2/24,
// fd00::2/64, fe80::fc:ff:fe00:1/64 (the reference machine's addresses).
func fakeInterfaces(t *testing.T) {
	t.Helper()
	saved := interfaceAddrs
	t.Cleanup(func() { interfaceAddrs = saved })
	interfaceAddrs = func() ([]*net.IPNet, error) {
		var nets []*net.IPNet
		for _, s := range []string{"127.0.0.1/8", "::1/128", "192.0.2.2/24", "fd00::2/64", "fe80::fc:ff:fe00:1/64", "172.16.5.4/24", "10.1.2.3/16"} {
			ip, n, err := net.ParseCIDR(s)
			if err != nil {
				t.Fatal(err)
			}
			n.IP = ip
			nets = append(nets, n)
		}
		return nets, nil
	}
}

func TestMynetworks(t *testing.T) {
	fakeInterfaces(t)
	tests := []struct {
		settings []string
		want     string
	}{
		{nil, "127.0.0.1/32 192.0.2.2/32 172.16.5.4/32 10.1.2.3/32 [::1]/128 [fd00::2]/128 [fe80::fc:ff:fe00:1]/128"},
		{[]string{"compatibility_level=0"}, "127.0.0.0/8 192.0.2.0/24 172.16.5.0/24 10.1.0.0/16 [::1]/128 [fd00::]/64 [fe80::]/64"},
		{[]string{"mynetworks_style=class"}, "127.0.0.0/8 192.0.2.0/24 172.16.0.0/16 10.0.0.0/8 [::1]/128 [fd00::]/64 [fe80::]/64"},
		{[]string{"mynetworks_style=subnet", "inet_protocols=ipv4"}, "127.0.0.0/8 192.0.2.0/24 172.16.5.0/24 10.1.0.0/16"},
		{[]string{"mynetworks_style=host", "inet_protocols=ipv6"}, "[::1]/128 [fd00::2]/128 [fe80::fc:ff:fe00:1]/128"},
		{[]string{"mynetworks_style=subnet", "inet_interfaces=loopback-only"}, "127.0.0.0/8 [::1]/128"},
		{[]string{"mynetworks_style=subnet", "inet_interfaces=192.0.2.2, [fd00::2], 198.51.100.1"}, "192.0.2.0/24 198.51.100.1/32 [fd00::]/64"},
		{[]string{"mynetworks=10.0.0.0/8"}, "10.0.0.0/8"},
	}
	for _, tt := range tests {
		c := testConfig(t, tt.settings...)
		if got, err := c.Get("mynetworks"); err != nil || got != tt.want {
			t.Errorf("%v: mynetworks = %q, %v\nwant %q", tt.settings, got, err, tt.want)
		}
	}
	for style, want := range map[string]string{
		"bogus":        `unknown mynetworks mask style value "bogus" in "bogus"`,
		"\tHOST ":      "unknown mynetworks mask style value \"HOST\" in \"\tHOST \"",
		"host, subnet": "bad mynetworks_style value: host, subnet; specify exactly one value",
		"":             "bad mynetworks_style value: ; specify exactly one value",
	} {
		c := testConfig(t)
		c.Set("mynetworks_style", style)
		if _, err := c.Get("mynetworks"); err == nil || err.Error() != want {
			t.Errorf("style %q: error = %v", style, err)
		}
	}
}

func TestServiceParameters(t *testing.T) {
	c := testConfig(t, "relay_destination_concurrency_limit=5")
	c.AddService("relay", "smtp")
	c.AddService("uucp", "pipe")
	c.AddService("pickup", "pickup")
	c.AddService("local", "local")
	for name, want := range map[string]string{
		"relay_destination_concurrency_limit": "5",
		"relay_recipient_limit":               "20000",
		"uucp_time_limit":                     "1000s",
		"local_destination_concurrency_limit": "2",
	} {
		if got, err := c.Get(name); err != nil || got != want {
			t.Errorf("Get(%s) = %q, %v; want %q", name, got, err, want)
		}
	}
	if c.Known("pickup_recipient_limit") || c.Known("relay_time_limit") || !c.Known("uucp_delivery_slot_cost") {
		t.Error("service parameters registered for the wrong services")
	}
}

// TestDerivedDefaultLoops checks that settings referring back to a derived
// default read it as empty instead of looping, as Postfix (which computes
// them once at start-up) does.
func TestDerivedDefaultLoops(t *testing.T) {
	fakeInterfaces(t)
	c := testConfig(t, "mydomain=${myhostname?yes}x", "mynetworks_style=$mynetworks host")
	fakeHost(t, "vm")
	if got, err := c.Get("myhostname"); err != nil || got != "vm.x" {
		t.Errorf("myhostname = %q, %v", got, err)
	}
	if got, err := c.Get("mydomain"); err != nil || got != "yesx" {
		t.Errorf("mydomain = %q, %v", got, err)
	}
	if got, err := c.Get("mynetworks"); err != nil || !strings.HasPrefix(got, "127.0.0.1/32 ") {
		t.Errorf("mynetworks = %q, %v", got, err)
	}
}
