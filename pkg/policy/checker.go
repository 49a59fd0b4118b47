// The Checker: smtpd's policy settings read from main.cf, restriction
// lists parsed once, and the startup check for a working relay restriction.

package policy

import (
	"fmt"
	"strings"

	"github.com/postern/postern/pkg/config"
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
}

// Checker evaluates the RCPT-time policy. It is safe for concurrent use
// when its tables are.
type Checker struct {
	resolver   *resolve.Resolver
	mynetworks *match.NetworkList
	tables     *tableOpener
	warn       func(string)

	relay, recipient     []restriction
	classes              map[string][]restriction // smtpd_restriction_classes
	relayBeforeRecipient bool
	rejectUnlisted       bool
	// noUnknownRecipients is receive_override_options'
	// no_unknown_recipient_checks: recipients are never validated.
	noUnknownRecipients bool

	allowUntrustedRouting bool
	relayRejectCode       int
	rejectCode, deferCode int
	accessReject          int
	accessDefer           int
	nonFQDNCode           int
	parentAccess          bool
	delimiter             string
	nullAccessKey         string

	validation recipientMaps
}

// restriction is one parsed item of a restriction list.
type restriction struct {
	name  string
	table maps.Table    // check_*_access
	class []restriction // a smtpd_restriction_classes name
}

// The restrictions that take a table argument.
var tableRestrictions = map[string]bool{
	"check_client_access": true, "check_helo_access": true,
	"check_sender_access": true, "check_recipient_access": true,
}

// The restrictions evaluated by this package without an argument.
var simpleRestrictions = map[string]bool{
	"permit": true, "reject": true, "defer": true, "defer_if_permit": true, "defer_if_reject": true,
	"permit_mynetworks": true, "permit_sasl_authenticated": true,
	"reject_unauth_destination": true, "defer_unauth_destination": true, "permit_auth_destination": true,
	"reject_non_fqdn_recipient": true, "reject_non_fqdn_sender": true, "reject_unlisted_recipient": true,
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
	c := &Checker{resolver: r, warn: warn, classes: map[string][]restriction{}, tables: &tableOpener{open: open, warn: warn, opened: map[string]maps.Table{}}}
	if err := c.readSettings(cfg); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// Close releases the checker's tables.
func (c *Checker) Close() error {
	var first error
	if c.mynetworks != nil {
		first = c.mynetworks.Close()
	}
	if err := c.tables.closeAll(); err != nil && first == nil {
		first = err
	}
	return first
}

// readSettings fills the checker from cfg.
func (c *Checker) readSettings(cfg *config.Config) error {
	get := func(name string) string {
		v, err := cfg.Get(name)
		if err != nil {
			c.warn(err.Error())
		}
		return v
	}
	var err error
	ints := []struct {
		name string
		dst  *int
	}{
		{"relay_domains_reject_code", &c.relayRejectCode}, {"reject_code", &c.rejectCode},
		{"defer_code", &c.deferCode}, {"access_map_reject_code", &c.accessReject},
		{"access_map_defer_code", &c.accessDefer}, {"non_fqdn_reject_code", &c.nonFQDNCode},
	}
	for _, p := range ints {
		if *p.dst, err = cfg.Int(p.name); err != nil {
			return err
		}
	}
	bools := []struct {
		name string
		dst  *bool
	}{
		{"allow_untrusted_routing", &c.allowUntrustedRouting},
		{"smtpd_relay_before_recipient_restrictions", &c.relayBeforeRecipient},
		{"smtpd_reject_unlisted_recipient", &c.rejectUnlisted},
	}
	for _, p := range bools {
		if *p.dst, err = cfg.Bool(p.name); err != nil {
			return err
		}
	}
	overrides, err := cfg.List("receive_override_options")
	if err != nil {
		return err
	}
	override, err := ipc.ParseReceiveOverride(overrides)
	if err != nil {
		return err
	}
	c.noUnknownRecipients = override.NoUnknownRecipientChecks
	parents := get("parent_domain_matches_subdomains")
	c.parentAccess = match.ParentStyle(parents, "smtpd_access_maps")
	c.delimiter = get("recipient_delimiter")
	c.nullAccessKey = get("smtpd_null_access_lookup_key")

	networks, err := cfg.List("mynetworks")
	if err != nil {
		return err
	}
	c.mynetworks, err = match.NewNetworkList("mynetworks", networks,
		match.Options{ParentStyle: match.ParentStyle(parents, "mynetworks"), OpenTable: c.tables.open})
	if err != nil {
		return err
	}
	classes := map[string]bool{}
	classNames := config.SplitList(get("smtpd_restriction_classes"))
	for _, name := range classNames {
		classes[name] = true
	}
	for _, name := range classNames {
		if _, err := c.parseClass(cfg, name, classes, 0); err != nil {
			return err
		}
	}
	for _, l := range []struct {
		name string
		dst  *[]restriction
	}{{"smtpd_relay_restrictions", &c.relay}, {"smtpd_recipient_restrictions", &c.recipient}} {
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
		switch {
		case tableRestrictions[name]:
			if i+1 >= len(items) || !strings.Contains(items[i+1], ":") {
				arg := ""
				if i+1 < len(items) {
					arg = items[i+1]
				}
				return nil, fmt.Errorf("%s: restriction %s: bad argument \"%s\": need maptype:mapname", param, name, arg)
			}
			i++
			list = append(list, restriction{name: name, table: c.tables.get(items[i])})
		case simpleRestrictions[name]:
			list = append(list, restriction{name: name})
		case classes[name]:
			class, err := c.parseClass(cfg, name, classes, depth)
			if err != nil {
				return nil, err
			}
			list = append(list, restriction{name: name, class: class})
		default:
			return nil, fmt.Errorf("%s: unknown smtpd restriction: \"%s\"", param, name)
		}
	}
	return list, nil
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
