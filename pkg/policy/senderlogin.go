// Sender login checks: smtpd_sender_login_maps (who owns which MAIL FROM
// address) and the restrictions reject_sender_login_mismatch,
// reject_authenticated_sender_login_mismatch,
// reject_known_sender_login_mismatch and
// reject_unauthenticated_sender_login_mismatch, with Postfix's 553 texts.

package policy

import (
	"fmt"
	"strings"

	"github.com/postern/postern/pkg/addr"
	"github.com/postern/postern/pkg/config"
	"github.com/postern/postern/pkg/maps"
	"github.com/postern/postern/pkg/resolve"
)

// senderLoginRestrictions are the restrictions this file evaluates; they
// take no argument.
var senderLoginRestrictions = []string{
	"reject_sender_login_mismatch", "reject_authenticated_sender_login_mismatch",
	"reject_known_sender_login_mismatch", "reject_unauthenticated_sender_login_mismatch",
}

func init() {
	for _, name := range senderLoginRestrictions {
		restrictionArgs[name] = argNone
	}
}

// senderLoginMismatch evaluates one of senderLoginRestrictions in any
// restriction class: nothing before MAIL FROM or for the null sender; a
// table that cannot be read defers.
func (e *evaluation) senderLoginMismatch(name string) Decision {
	s := e.s
	if !s.Mail || s.Sender.Internal() == "" {
		return Decision{}
	}
	d, err := e.c.senderLogins.check(name, s.Sender, s.SASLUser)
	if err != nil {
		e.c.warn(err.Error())
		return tempFailure(s.Sender.Internal())
	}
	return d
}

// senderLogins is smtpd_sender_login_maps: for a sender address, the SASL
// login names (separated by commas or blanks) allowed to use it.
type senderLogins struct {
	tables   []maps.Table
	resolver *resolve.Resolver
}

// read opens smtpd_sender_login_maps.
func (l *senderLogins) read(cfg *config.Config, tables *tableOpener, r *resolve.Resolver) error {
	var p struct {
		Maps []string `param:"smtpd_sender_login_maps"`
	}
	if err := cfg.Fill(&p); err != nil {
		return err
	}
	for _, spec := range p.Maps {
		l.tables = append(l.tables, tables.get(spec))
	}
	l.resolver = r
	return nil
}

// owners looks the sender, as the resolver rewrites it, up in
// mail_addr_find's order (see resolve.AddressFinder). known says whether
// the address has an entry at all.
func (l *senderLogins) owners(sender addr.Address) (owners []string, known bool, err error) {
	res, err := l.resolver.Resolve(sender.Internal())
	if err != nil {
		return nil, false, err
	}
	m, found, err := l.resolver.AddressFinder().Find(l.tables, res.Address.Internal())
	if err != nil {
		return nil, false, fmt.Errorf("%s: table lookup problem: %w", m.Table.Spec(), err)
	}
	if !found {
		return nil, false, nil
	}
	return strings.FieldsFunc(m.Value, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }), true, nil
}

// check evaluates one of senderLoginRestrictions for the MAIL FROM
// address and the SASL login ("" when the client did not authenticate).
// Nothing is checked for the null sender or without
// smtpd_sender_login_maps.
func (l *senderLogins) check(name string, sender addr.Address, saslUser string) (Decision, error) {
	if len(l.tables) == 0 || sender.Internal() == "" {
		return Decision{}, nil
	}
	owners, known, err := l.owners(sender)
	if err != nil {
		return Decision{}, err
	}
	authenticated := name != "reject_unauthenticated_sender_login_mismatch"
	unauthenticated := name != "reject_authenticated_sender_login_mismatch"
	allowUnknown := name == "reject_known_sender_login_mismatch"
	if saslUser != "" {
		if !authenticated || (!known && allowUnknown) {
			return Decision{}, nil
		}
		for _, o := range owners {
			if strings.EqualFold(o, saslUser) {
				return Decision{}, nil
			}
		}
		return senderLoginReject(sender, "not owned by user "+saslUser), nil
	}
	if unauthenticated && known {
		return senderLoginReject(sender, "not logged in"), nil
	}
	return Decision{}, nil
}

// senderLoginReject is Postfix's 553 for a sender login mismatch.
func senderLoginReject(sender addr.Address, why string) Decision {
	return Decision{Action: Reject, Code: 553, DSN: "5.7.1", Text: "<" + sender.Internal() + ">: Sender address rejected: " + why}
}
