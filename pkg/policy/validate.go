// Address validation (smtpd_reject_unlisted_recipient,
// reject_unlisted_recipient, smtpd_reject_unlisted_sender,
// reject_unlisted_sender): an address of a domain handled here must be
// known to the recipient table of its address class.

package policy

import (
	"fmt"
	"strings"

	"github.com/postern/postern/pkg/addr"
	"github.com/postern/postern/pkg/config"
	"github.com/postern/postern/pkg/maps"
	"github.com/postern/postern/pkg/resolve"
)

// recipientMaps are the tables and codes of the recipient validation.
type recipientMaps struct {
	local, virtualAlias, virtualMailbox, relay []maps.Table
	canonical, recipientCanonical              []maps.Table
	senderCanonical                            []maps.Table
	doubleBounceSender                         string
	localCode, aliasCode, mailboxCode          int
	relayCode                                  int
	showTableName                              bool
}

// read opens the tables named by the validation parameters.
func (m *recipientMaps) read(cfg *config.Config, tables *tableOpener) error {
	lists := []struct {
		name string
		dst  *[]maps.Table
	}{
		{"local_recipient_maps", &m.local}, {"virtual_alias_maps", &m.virtualAlias},
		{"virtual_mailbox_maps", &m.virtualMailbox}, {"relay_recipient_maps", &m.relay},
		{"canonical_maps", &m.canonical}, {"recipient_canonical_maps", &m.recipientCanonical},
		{"sender_canonical_maps", &m.senderCanonical},
	}
	for _, l := range lists {
		specs, err := cfg.List(l.name)
		if err != nil {
			return err
		}
		for _, spec := range specs {
			*l.dst = append(*l.dst, tables.get(spec))
		}
	}
	codes := []struct {
		name string
		dst  *int
	}{
		{"unknown_local_recipient_reject_code", &m.localCode}, {"unknown_virtual_alias_reject_code", &m.aliasCode},
		{"unknown_virtual_mailbox_reject_code", &m.mailboxCode}, {"unknown_relay_recipient_reject_code", &m.relayCode},
	}
	for _, p := range codes {
		v, err := cfg.Int(p.name)
		if err != nil {
			return err
		}
		*p.dst = v
	}
	var err error
	if m.doubleBounceSender, err = cfg.Get("double_bounce_sender"); err != nil {
		return err
	}
	m.showTableName, err = cfg.Bool("show_user_unknown_table_name")
	return err
}

// alwaysLocal reports whether a local part is always accepted for a local
// domain: postmaster, MAILER-DAEMON and the double-bounce sender, which
// Postfix itself generates or absorbs.
func (m *recipientMaps) alwaysLocal(local string) bool {
	return strings.EqualFold(local, "postmaster") || strings.EqualFold(local, "MAILER-DAEMON") ||
		strings.EqualFold(local, m.doubleBounceSender)
}

// ValidateRecipient checks that a recipient exists (for VRFY): see
// validateAddress. A returned error means a table could not be read.
func (c *Checker) ValidateRecipient(rcpt addr.Address) (Decision, error) {
	return c.validateAddress(rcpt, classRecipient)
}

// validateRecipient is ValidateRecipient inside an evaluation: a table
// failure is warned about and answered with the temporary failure.
func (c *Checker) validateRecipient(rcpt addr.Address) Decision {
	d, err := c.validateAddress(rcpt, classRecipient)
	if err != nil {
		c.warn(err.Error())
	}
	return d
}

// unlistedSender implements reject_unlisted_sender, once per MAIL FROM.
func (e *evaluation) unlistedSender() Decision {
	if e.s.senderValidated {
		return Decision{}
	}
	if e.s.warnIfReject == 0 {
		e.s.senderValidated = true
	}
	d, err := e.c.validateAddress(e.s.Sender, classSender)
	if err != nil {
		e.c.warn(err.Error())
	}
	return d
}

// validateAddress checks that an address exists: postmaster,
// MAILER-DAEMON and $double_bounce_sender of a local domain always do; an
// address found in recipient_canonical_maps, (for a sender)
// sender_canonical_maps, canonical_maps or virtual_alias_maps is known;
// otherwise local addresses need local_recipient_maps (when set),
// virtual alias addresses virtual_alias_maps, virtual mailbox addresses
// virtual_mailbox_maps (when set) and relay addresses relay_recipient_maps
// (when set). It returns Dunno for a known address, the 550 "User unknown
// in ... table" rejection for an unknown one, and Postfix's 451 4.3.0
// temporary failure (with the error) when a table cannot be read.
func (c *Checker) validateAddress(a addr.Address, class string) (Decision, error) {
	if c.noUnknownRecipients {
		return Decision{Action: Dunno}, nil
	}
	ctx := replyContext{name: a.Internal(), class: class}
	res, err := c.resolver.Resolve(a.Internal())
	if err != nil {
		return tempFailure(ctx.name), err
	}
	keys, err := c.recipientKeys(res)
	if err != nil {
		return tempFailure(ctx.name), err
	}
	m := &c.validation
	known := [][]maps.Table{m.recipientCanonical, m.canonical, m.virtualAlias}
	if class == classSender {
		known = [][]maps.Table{m.recipientCanonical, m.senderCanonical, m.canonical, m.virtualAlias}
	}
	for _, tables := range known {
		found, err := findAny(tables, keys)
		if err != nil {
			return tempFailure(ctx.name), err
		}
		if found {
			return Decision{}, nil
		}
	}
	var tables []maps.Table
	var code int
	var table string
	switch res.Class {
	case resolve.ClassLocal:
		if m.alwaysLocal(res.Address.Local) {
			return Decision{}, nil
		}
		tables, code, table = m.local, m.localCode, "local recipient"
	case resolve.ClassVirtualAlias:
		return c.unknownUser(ctx, m.aliasCode, "virtual alias"), nil
	case resolve.ClassVirtualMailbox:
		tables, code, table = m.virtualMailbox, m.mailboxCode, "virtual mailbox"
	case resolve.ClassRelay:
		tables, code, table = m.relay, m.relayCode, "relay recipient"
	default:
		return Decision{}, nil
	}
	if len(tables) == 0 {
		return Decision{}, nil
	}
	found, err := findAny(tables, keys)
	if err != nil {
		return tempFailure(ctx.name), err
	}
	if found {
		return Decision{}, nil
	}
	return c.unknownUser(ctx, code, table), nil
}

// unknownUser is the "User unknown in ... table" rejection.
func (c *Checker) unknownUser(ctx replyContext, code int, table string) Decision {
	text := "User unknown"
	if c.validation.showTableName {
		text += " in " + table + " table"
	}
	dsn := "5.1.1"
	if ctx.class == classSender {
		dsn = "5.1.0"
	}
	return reject(code, dsn, ctx, text)
}

// recipientKeys returns the queries for a resolved address, in the order
// of Postfix's address lookups: user+ext@domain, user@domain, then for a
// local domain user+ext and user, then @domain.
func (c *Checker) recipientKeys(res resolve.Result) ([]lookupKey, error) {
	local, domain := res.Address.Local, res.Address.Domain
	base := resolve.StripExtension(local, c.set.Delimiter)
	keys := []lookupKey{{key: local + "@" + domain}}
	if base != local {
		keys = append(keys, lookupKey{key: base + "@" + domain, partial: true})
	}
	isLocal, err := c.resolver.IsLocalDomain(domain)
	if err != nil {
		return nil, err
	}
	if isLocal {
		keys = append(keys, lookupKey{key: local, partial: true})
		if base != local {
			keys = append(keys, lookupKey{key: base, partial: true})
		}
	}
	return append(keys, lookupKey{key: "@" + domain, partial: true}), nil
}

// findAny reports whether any key is in any table (keys outer, tables
// inner, as Postfix searches a list of tables).
func findAny(tables []maps.Table, keys []lookupKey) (bool, error) {
	for _, k := range keys {
		for _, t := range tables {
			if k.partial && !fixedKeys(t) {
				continue
			}
			if strings.HasPrefix(t.Spec(), PasswdSpec) && strings.ContainsAny(k.key, "@") {
				continue
			}
			_, found, err := t.Lookup(k.key)
			if err != nil {
				return false, fmt.Errorf("%s: lookup %s: %w", t.Spec(), k.key, err)
			}
			if found {
				return true, nil
			}
		}
	}
	return false, nil
}
