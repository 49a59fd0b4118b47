// The Checker: smtpd's policy settings read from main.cf, restriction
// lists parsed once, and the startup check for a working relay restriction.

package policy

import (
	"fmt"
	"strings"
	"time"

	"github.com/postern/postern/pkg/addr"
	"github.com/postern/postern/pkg/config"
	"github.com/postern/postern/pkg/dnsx"
	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/maps"
	"github.com/postern/postern/pkg/match"
	"github.com/postern/postern/pkg/resolve"
)

// Options change how a Checker is built.
type Options struct {
	// OpenTable opens "type:name" specs; nil means OpenTable.
	OpenTable func(spec string) (maps.Table, error)
	// Warn receives warnings in Postfix's words (tables that cannot be
	// opened, bad access-table entries); nil drops them.
	Warn func(msg string)
	// Log receives the informational lines ("NOQUEUE: reject: ...");
	// nil drops them.
	Log func(msg string)
	// DNS answers the DNS-based restrictions; nil means a resolver for
	// dns_servers, or /etc/resolv.conf when that is empty.
	DNS *dnsx.Resolver
	// Sleep waits for the sleep restriction; nil means time.Sleep.
	Sleep func(time.Duration)
}

// Checker evaluates the smtpd restrictions. It is safe for concurrent use
// when its tables are.
type Checker struct {
	cfg        *config.Config
	resolver   *resolve.Resolver
	mynetworks *match.NetworkList
	tables     *tableOpener
	warn       func(string)
	log        func(string)
	dns        *dnsx.Resolver
	sleep      func(time.Duration)

	client, helo, sender, relay, recipient []restriction
	data, endOfData, etrn                  []restriction
	classes                                map[string][]restriction // smtpd_restriction_classes
	set                                    settings
	parentAccess                           bool
	// noUnknownRecipients is receive_override_options'
	// no_unknown_recipient_checks: addresses are never validated.
	noUnknownRecipients bool

	// mxBackupNetworks is permit_mx_backup_networks (nil when empty).
	mxBackupNetworks *match.NetworkList
	// relayClientCerts are the relay_clientcerts tables.
	relayClientCerts []maps.Table

	rbl          rblSettings
	services     *serviceSettings
	validation   recipientMaps
	senderLogins senderLogins  // smtpd_sender_login_maps
	verify       verifyChecker // reject_unverified_*
}

// settings are the policy parameters read by config.Fill.
type settings struct {
	RelayBeforeRecipient  bool   `param:"smtpd_relay_before_recipient_restrictions"`
	RejectUnlisted        bool   `param:"smtpd_reject_unlisted_recipient"`
	RejectUnlistedSender  bool   `param:"smtpd_reject_unlisted_sender"`
	DelayReject           bool   `param:"smtpd_delay_reject"`
	AllowUntrustedRouting bool   `param:"allow_untrusted_routing"`
	SoftBounce            bool   `param:"soft_bounce"`
	RelayRejectCode       int    `param:"relay_domains_reject_code"`
	RejectCode            int    `param:"reject_code"`
	DeferCode             int    `param:"defer_code"`
	AccessReject          int    `param:"access_map_reject_code"`
	AccessDefer           int    `param:"access_map_defer_code"`
	NonFQDNCode           int    `param:"non_fqdn_reject_code"`
	InvalidHostnameCode   int    `param:"invalid_hostname_reject_code"`
	UnknownHostnameCode   int    `param:"unknown_hostname_reject_code"`
	UnknownAddressCode    int    `param:"unknown_address_reject_code"`
	UnknownClientCode     int    `param:"unknown_client_reject_code"`
	MultiRecipientCode    int    `param:"multi_recipient_bounce_reject_code"`
	RBLCode               int    `param:"maps_rbl_reject_code"`
	PlaintextCode         int    `param:"plaintext_reject_code"`
	ParentDomains         string `param:"parent_domain_matches_subdomains"`
	// Extensions are recipient_delimiter and the local parts it does
	// not split.
	Extensions          addr.Extensions
	NullAccessKey       string   `param:"smtpd_null_access_lookup_key"`
	UnknownHeloTempfail string   `param:"unknown_helo_hostname_tempfail_action"`
	UnknownAddrTempfail string   `param:"unknown_address_tempfail_action"`
	Mynetworks          []string `param:"mynetworks"`
	Classes             []string `param:"smtpd_restriction_classes"`
	ReceiveOverride     []string `param:"receive_override_options"`
	MXBackupNetworks    []string `param:"permit_mx_backup_networks"`
	SASLEnabled         bool     `param:"smtpd_sasl_auth_enable"`
	AskClientCert       bool     `param:"smtpd_tls_ask_ccert"`
	RelayClientCerts    []string `param:"relay_clientcerts"`
}

// restriction is one parsed item of a restriction list.
type restriction struct {
	name    string
	arg     string         // the argument: a table spec, DNS domain, number or server
	table   maps.Table     // check_*_access and the bare "type:table" form
	class   []restriction  // a smtpd_restriction_classes name
	service *serviceClient // check_policy_service
	implied bool           // a bare table: the stage's default access check
	broken  string         // why it cannot work (a bad argument), warned at run time
}

// argKind is what follows a restriction name.
type argKind int

const (
	argNone argKind = iota
	argTable
	argDomain
	argNumber
	argServer
)

// restrictionArgs lists every restriction this package evaluates, with
// what it takes.
var restrictionArgs = map[string]argKind{
	"permit": argNone, "reject": argNone, "defer": argNone,
	"defer_if_permit": argNone, "defer_if_reject": argNone, "warn_if_reject": argNone,
	"sleep": argNumber, "check_policy_service": argServer,
	"permit_mynetworks": argNone, "permit_sasl_authenticated": argNone,
	"reject_plaintext_session": argNone, "reject_unauth_pipelining": argNone,
	"permit_auth_destination": argNone, "reject_unauth_destination": argNone, "defer_unauth_destination": argNone,
	"permit_mx_backup":               argNone,
	"reject_unknown_client_hostname": argNone, "reject_unknown_client": argNone,
	"reject_unknown_reverse_client_hostname": argNone,
	"reject_invalid_helo_hostname":           argNone, "reject_invalid_hostname": argNone,
	"reject_non_fqdn_helo_hostname": argNone, "reject_non_fqdn_hostname": argNone,
	"reject_unknown_helo_hostname": argNone, "reject_unknown_hostname": argNone,
	"reject_non_fqdn_sender": argNone, "reject_non_fqdn_recipient": argNone,
	"reject_unknown_sender_domain": argNone, "reject_unknown_recipient_domain": argNone,
	"reject_unlisted_sender": argNone, "reject_unlisted_recipient": argNone, "check_recipient_maps": argNone,
	"reject_multi_recipient_bounce": argNone,
	"reject_unverified_recipient":   argNone, "reject_unverified_sender": argNone,
	"check_client_access": argTable, "check_reverse_client_hostname_access": argTable,
	"check_helo_access": argTable, "check_sender_access": argTable, "check_recipient_access": argTable,
	"check_etrn_access": argTable, "check_sasl_access": argTable, "check_ccert_access": argTable,
	"permit_tls_clientcerts": argNone, "permit_tls_all_clientcerts": argNone,
	"check_client_mx_access": argTable, "check_client_ns_access": argTable, "check_client_a_access": argTable,
	"check_reverse_client_hostname_mx_access": argTable, "check_reverse_client_hostname_ns_access": argTable,
	"check_reverse_client_hostname_a_access": argTable,
	"check_helo_mx_access":                   argTable, "check_helo_ns_access": argTable, "check_helo_a_access": argTable,
	"check_sender_mx_access": argTable, "check_sender_ns_access": argTable, "check_sender_a_access": argTable,
	"check_recipient_mx_access": argTable, "check_recipient_ns_access": argTable, "check_recipient_a_access": argTable,
	"reject_rbl_client": argDomain, "reject_rbl": argDomain, "permit_dnswl_client": argDomain,
	"reject_rhsbl_client": argDomain, "reject_rhsbl_reverse_client": argDomain, "reject_rhsbl_helo": argDomain,
	"reject_rhsbl_sender": argDomain, "reject_rhsbl_recipient": argDomain, "permit_rhswl_client": argDomain,
}

// The restrictions that make relay control work; one list must have one.
var workingRelayRestrictions = []string{
	"reject_unauth_destination", "defer_unauth_destination", "reject", "defer", "defer_if_permit",
}

// NewChecker reads the policy parameters from cfg. The resolver must be
// built from the same configuration.
func NewChecker(cfg *config.Config, r *resolve.Resolver, opts Options) (*Checker, error) {
	open := opts.OpenTable
	if open == nil {
		open = OpenTable
	}
	warn := opts.Warn
	if warn == nil {
		warn = func(string) {}
	}
	log := opts.Log
	if log == nil {
		log = func(string) {}
	}
	sleep := opts.Sleep
	if sleep == nil {
		sleep = time.Sleep
	}
	c := &Checker{cfg: cfg, resolver: r, warn: warn, log: log, dns: opts.DNS, sleep: sleep,
		classes: map[string][]restriction{}, tables: &tableOpener{open: open, warn: warn, opened: map[string]maps.Table{}}}
	if err := c.readSettings(cfg); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// Close releases the checker's tables and policy server connections.
func (c *Checker) Close() error {
	var first error
	if c.mynetworks != nil {
		first = c.mynetworks.Close()
	}
	if err := c.tables.closeAll(); err != nil && first == nil {
		first = err
	}
	if c.services != nil {
		c.services.closeAll()
	}
	return first
}

// DelayReject reports smtpd_delay_reject: client, HELO and sender
// restrictions wait until RCPT TO.
func (c *Checker) DelayReject() bool { return c.set.DelayReject }

// readSettings fills the checker from cfg.
func (c *Checker) readSettings(cfg *config.Config) error {
	if err := cfg.Fill(&c.set); err != nil {
		return err
	}
	override, err := ipc.ParseReceiveOverride(c.set.ReceiveOverride)
	if err != nil {
		return err
	}
	c.noUnknownRecipients = override.NoUnknownRecipientChecks
	c.parentAccess = match.ParentStyle(c.set.ParentDomains, "smtpd_access_maps")
	c.mynetworks, err = match.NewNetworkList("mynetworks", c.set.Mynetworks,
		match.Options{ParentStyle: match.ParentStyle(c.set.ParentDomains, "mynetworks"), OpenTable: c.tables.open})
	if err != nil {
		return err
	}
	if err := c.readMXBackupNetworks(c.set.MXBackupNetworks); err != nil {
		return err
	}
	for _, spec := range c.set.RelayClientCerts {
		t, err := c.tables.open(spec)
		if err != nil {
			return err
		}
		c.relayClientCerts = append(c.relayClientCerts, t)
	}
	if err := c.rbl.read(cfg, c.tables); err != nil {
		return err
	}
	if err := c.senderLogins.read(cfg, c.tables, c.resolver); err != nil {
		return err
	}
	if err := c.verify.read(cfg, c.resolver); err != nil {
		return err
	}
	if c.services, err = readServiceSettings(cfg); err != nil {
		return err
	}
	if c.dns == nil {
		if c.dns, err = dnsResolver(cfg); err != nil {
			return err
		}
	}
	classes := map[string]bool{}
	for _, name := range c.set.Classes {
		classes[name] = true
	}
	for _, name := range c.set.Classes {
		if _, err := c.parseClass(cfg, name, classes, 0); err != nil {
			return err
		}
	}
	for _, l := range []struct {
		name string
		dst  *[]restriction
	}{
		{"smtpd_client_restrictions", &c.client}, {"smtpd_helo_restrictions", &c.helo},
		{"smtpd_sender_restrictions", &c.sender},
		{"smtpd_relay_restrictions", &c.relay}, {"smtpd_recipient_restrictions", &c.recipient},
		{"smtpd_data_restrictions", &c.data}, {"smtpd_end_of_data_restrictions", &c.endOfData},
		{"smtpd_etrn_restrictions", &c.etrn},
	} {
		items, err := cfg.List(l.name)
		if err != nil {
			return err
		}
		if *l.dst, err = c.parseList(cfg, l.name, items, classes, 0); err != nil {
			return err
		}
	}
	if !hasWorkingRelayRestriction(c.relay) && !hasWorkingRelayRestriction(c.recipient) {
		// Postfix's text, which still names the retired check_relay_domains.
		return fmt.Errorf("in parameter smtpd_relay_restrictions or smtpd_recipient_restrictions, specify at least one working instance of: %s or check_relay_domains",
			strings.Join(workingRelayRestrictions, ", "))
	}
	return c.validation.read(cfg, c.tables)
}

// maxClassDepth bounds restriction classes that name other classes.
const maxClassDepth = 20

// parseList parses a restriction list.
func (c *Checker) parseList(cfg *config.Config, param string, items []string, classes map[string]bool, depth int) ([]restriction, error) {
	var list []restriction
	for i := 0; i < len(items); i++ {
		name := items[i]
		kind, known := restrictionArgs[name]
		if !known && !classes[name] {
			if lower := strings.ToLower(name); isKnownName(lower) {
				name, kind, known = lower, restrictionArgs[lower], true
			}
		}
		switch {
		case known && kind != argNone:
			if i+1 >= len(items) || !validArg(kind, items[i+1]) {
				// Postfix fails the requests this restriction sees.
				arg := ""
				if i+1 < len(items) {
					arg = items[i+1]
				}
				list = append(list, restriction{name: name, arg: arg,
					broken: fmt.Sprintf("restriction %s: bad argument \"%s\": %s", name, arg, argNeed(kind))})
				continue
			}
			i++
			r := restriction{name: name, arg: items[i]}
			switch kind {
			case argTable:
				r.table = c.tables.get(items[i])
			case argServer:
				svc, err := c.services.client(items[i])
				if err != nil {
					return nil, fmt.Errorf("%s: %w", param, err)
				}
				r.service = svc
			}
			list = append(list, r)
		case known:
			list = append(list, restriction{name: name})
		case classes[name]:
			class, err := c.parseClass(cfg, name, classes, depth)
			if err != nil {
				return nil, err
			}
			list = append(list, restriction{name: name, class: class})
		case strings.Contains(name, ":"):
			list = append(list, restriction{implied: true, arg: name, table: c.tables.get(name)})
		default:
			// Postfix finds out at run time: the request fails with
			// 451 4.3.5 and a warning.
			list = append(list, restriction{name: name})
		}
	}
	return list, nil
}

// validArg reports whether an item can be the argument of a restriction.
func validArg(kind argKind, arg string) bool {
	switch kind {
	case argTable, argServer:
		return strings.Contains(arg, ":")
	case argNumber:
		return allDigits(arg)
	}
	return arg != "" && restrictionArgs[arg] == argNone && !isKnownName(arg)
}

// isKnownName reports whether s names a restriction.
func isKnownName(s string) bool {
	_, ok := restrictionArgs[s]
	return ok
}

// argNeed describes what a restriction's argument must be.
func argNeed(kind argKind) string {
	switch kind {
	case argTable:
		return "need maptype:mapname"
	case argServer:
		return "need transport:server"
	case argNumber:
		return "need a number"
	}
	return "need a domain name"
}

// parseClass parses the definition of a restriction class once.
func (c *Checker) parseClass(cfg *config.Config, name string, classes map[string]bool, depth int) ([]restriction, error) {
	if list, ok := c.classes[name]; ok {
		return list, nil
	}
	if depth >= maxClassDepth {
		return nil, fmt.Errorf("restriction class %s: too many nested restriction classes", name)
	}
	v, err := cfg.Get(name)
	if err != nil {
		return nil, err
	}
	items := config.SplitList(v)
	if len(items) == 0 {
		return nil, fmt.Errorf("restriction class `%s' needs a definition", name)
	}
	list, err := c.parseList(cfg, name, items, classes, depth+1)
	if err != nil {
		return nil, err
	}
	c.classes[name] = list
	return list, nil
}

// hasWorkingRelayRestriction reports whether a top-level item of the list
// is one of workingRelayRestrictions.
func hasWorkingRelayRestriction(list []restriction) bool {
	for _, r := range list {
		for _, w := range workingRelayRestrictions {
			if r.name == w {
				return true
			}
		}
	}
	return false
}
