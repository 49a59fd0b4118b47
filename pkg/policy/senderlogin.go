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
	tables    []maps.Table
	delimiter string
	resolver  *resolve.Resolver
}

// read opens smtpd_sender_login_maps.
func (l *senderLogins) read(cfg *config.Config, tables *tableOpener, r *resolve.Resolver) error {
	var p struct {
		Maps      []string `param:"smtpd_sender_login_maps"`
		Delimiter string   `param:"recipient_delimiter"`
	}
	if err := cfg.Fill(&p); err != nil {
		return err
	}
	for _, spec := range p.Maps {
		l.tables = append(l.tables, tables.get(spec))
	}
	l.delimiter, l.resolver = p.Delimiter, r
	return nil
}

// owners looks the sender up as Postfix's mail_addr_find does: the
// address, then without its address extension, then the local part alone
// (with and without extension) when the domain is local, then "@domain".
// Pattern tables get the whole address only. known says whether the
// address has an entry at all.
func (l *senderLogins) owners(sender addr.Address) (owners []string, known bool, err error) {
	res, err := l.resolver.Resolve(sender.Internal())
	if err != nil {
		return nil, false, err
	}
	a := res.Address
	local, domain := strings.ToLower(a.Local), strings.ToLower(a.Domain)
	bare := local
	if l.delimiter != "" {
		if i := strings.IndexAny(local, l.delimiter); i > 0 {
			bare = local[:i]
		}
	}
	keys := []string{local + "@" + domain}
	if bare != local {
		keys = append(keys, bare+"@"+domain)
	}
	if res.Class == resolve.ClassLocal {
		keys = append(keys, local)
		if bare != local {
			keys = append(keys, bare)
		}
	}
	keys = append(keys, "@"+domain)
	for i, key := range keys {
		for _, t := range l.tables {
			if i > 0 && !maps.FixedKeys(t.Spec()) {
				continue
			}
			v, ok, err := t.Lookup(key)
			if err != nil {
				return nil, false, fmt.Errorf("%s: table lookup problem: %w", t.Spec(), err)
			}
			if ok {
				return strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }), true, nil
			}
		}
	}
	return nil, false, nil
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
