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
	validationParams
}

// validationParams are the parameters of the recipient validation.
type validationParams struct {
	Local              []string `param:"local_recipient_maps"`
	VirtualAlias       []string `param:"virtual_alias_maps"`
	VirtualMailbox     []string `param:"virtual_mailbox_maps"`
	Relay              []string `param:"relay_recipient_maps"`
	Canonical          []string `param:"canonical_maps"`
	RecipientCanonical []string `param:"recipient_canonical_maps"`
	SenderCanonical    []string `param:"sender_canonical_maps"`
	DoubleBounceSender string   `param:"double_bounce_sender"`
	LocalCode          int      `param:"unknown_local_recipient_reject_code"`
	AliasCode          int      `param:"unknown_virtual_alias_reject_code"`
	MailboxCode        int      `param:"unknown_virtual_mailbox_reject_code"`
	RelayCode          int      `param:"unknown_relay_recipient_reject_code"`
	ShowTableName      bool     `param:"show_user_unknown_table_name"`
}

// read opens the tables named by the validation parameters.
func (m *recipientMaps) read(cfg *config.Config, tables *tableOpener) error {
	if err := cfg.Fill(&m.validationParams); err != nil {
		return err
	}
	for _, l := range []struct {
		specs []string
		dst   *[]maps.Table
	}{
		{m.Local, &m.local}, {m.VirtualAlias, &m.virtualAlias}, {m.VirtualMailbox, &m.virtualMailbox},
		{m.Relay, &m.relay}, {m.Canonical, &m.canonical}, {m.RecipientCanonical, &m.recipientCanonical},
		{m.SenderCanonical, &m.senderCanonical},
	} {
		for _, spec := range l.specs {
			*l.dst = append(*l.dst, tables.get(spec))
		}
	}
	return nil
}

// alwaysLocal reports whether a local part is always accepted for a local
// domain: postmaster, MAILER-DAEMON and the double-bounce sender, which
// Postfix itself generates or absorbs.
func (m *recipientMaps) alwaysLocal(local string) bool {
	return strings.EqualFold(local, "postmaster") || strings.EqualFold(local, "MAILER-DAEMON") ||
		strings.EqualFold(local, m.DoubleBounceSender)
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
		tables, code, table = m.local, m.LocalCode, "local recipient"
	case resolve.ClassVirtualAlias:
		return c.unknownUser(ctx, m.AliasCode, "virtual alias"), nil
	case resolve.ClassVirtualMailbox:
		tables, code, table = m.virtualMailbox, m.MailboxCode, "virtual mailbox"
	case resolve.ClassRelay:
		tables, code, table = m.relay, m.RelayCode, "relay recipient"
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
	if c.validation.ShowTableName {
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
	base := c.set.Extensions.Strip(local)
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
			if k.partial && !maps.FixedKeys(t.Spec()) {
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
