// Sender-dependent routing, as trivial-rewrite does it for mail that
// leaves this host: sender_dependent_default_transport_maps overrides
// default_transport, sender_dependent_relayhost_maps overrides relayhost.

package resolve

import (
	"fmt"
	"strings"

	"github.com/postern/postern/pkg/maps"
)

func (r *Resolver) senderTransport() senderTables {
	return senderTables{"sender_dependent_default_transport_maps", r.s.SenderTransportMaps, r.s.NullSenderTransportKey}
}

func (r *Resolver) senderRelayhost() senderTables {
	return senderTables{"sender_dependent_relayhost_maps", r.s.SenderRelayhostMaps, r.s.NullSenderRelayhostKey}
}

// senderTables are the sender-dependent tables with their names, for
// messages, and the key that stands for the null sender.
type senderTables struct {
	name    string
	tables  []maps.Table
	nullKey string
}

// ResolveFrom resolves a recipient of mail from sender (internal form,
// "" for the null sender), with the sender-dependent transport and
// relayhost tables applied.
func (r *Resolver) ResolveFrom(sender, internal string) (Result, error) {
	return r.resolve(internal, &sender)
}

// senderChannel returns the sender-dependent override of channel (the
// class's transport) and nexthop for an off-host destination of class c.
func (r *Resolver) senderChannel(res *Result, sender string, channel, nexthop string) (string, string, error) {
	if res.Class == ClassDefault {
		v, found, err := r.senderLookup(res, r.senderTransport(), sender)
		if err != nil {
			return "", "", err
		}
		if found && !strings.EqualFold(v, "DUNNO") {
			channel = v
		}
	}
	v, found, err := r.senderLookup(res, r.senderRelayhost(), sender)
	if err != nil {
		return "", "", err
	}
	if found && !strings.EqualFold(v, "DUNNO") {
		nexthop = v
	}
	return channel, nexthop, nil
}

// senderLookup searches t for sender in mail_addr_find's order (see
// AddressFinder). The null sender is looked up as the table's null key.
// An empty result is ignored with Postfix's warning.
func (r *Resolver) senderLookup(res *Result, t senderTables, sender string) (string, bool, error) {
	if len(t.tables) == 0 {
		return "", false, nil
	}
	keys := []AddressKey{{Key: t.nullKey}}
	if sender != "" {
		var err error
		if keys, _, err = r.AddressFinder().Keys(sender); err != nil {
			return "", false, err
		}
	}
	m, found, err := FindKeys(t.tables, keys)
	if err != nil {
		return "", false, fmt.Errorf("%s lookup failure: %s: %w", t.name, m.Table.Spec(), err)
	}
	if !found {
		return "", false, nil
	}
	v := strings.TrimSpace(m.Value)
	if v == "" {
		res.Warnings = append(res.Warnings, fmt.Sprintf("%s: ignoring null lookup result for %s", t.name, keys[0].Key))
		return "", false, nil
	}
	return v, true, nil
}
