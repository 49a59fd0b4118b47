// Sender-dependent routing, as trivial-rewrite does it for mail that
// leaves this host: sender_dependent_default_transport_maps overrides
// default_transport, sender_dependent_relayhost_maps overrides relayhost.

package resolve

import (
	"fmt"
	"strings"

	"github.com/postern/postern/pkg/addr"
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

// senderLookup searches t for sender as Postfix's mail_addr_find does:
// the address, the address without its extension, for a local domain
// the local part with and without extension, then "@domain". Pattern
// tables get the whole address only. The null sender is looked up as
// the table's null key. An empty result is ignored with Postfix's
// warning.
func (r *Resolver) senderLookup(res *Result, t senderTables, sender string) (string, bool, error) {
	if len(t.tables) == 0 {
		return "", false, nil
	}
	keys := []string{t.nullKey}
	if sender != "" {
		var err error
		if keys, err = r.addressKeys(sender); err != nil {
			return "", false, err
		}
	}
	for i, key := range keys {
		for _, tab := range t.tables {
			if i > 0 && !maps.FixedKeys(tab.Spec()) {
				continue
			}
			v, ok, err := tab.Lookup(key)
			if err != nil {
				return "", false, fmt.Errorf("%s lookup failure: %s: %w", t.name, tab.Spec(), err)
			}
			if !ok {
				continue
			}
			if v = strings.TrimSpace(v); v == "" {
				res.Warnings = append(res.Warnings, fmt.Sprintf("%s: ignoring null lookup result for %s", t.name, keys[0]))
				return "", false, nil
			}
			return v, true, nil
		}
	}
	return "", false, nil
}

// addressKeys lists the lookup keys of an address in mail_addr_find's
// order.
func (r *Resolver) addressKeys(address string) ([]string, error) {
	a := addr.Split(address)
	local, domain := a.Local, a.Domain
	bare := StripExtension(local, r.s.RecipientDelimiter)
	keys := []string{address}
	if domain == "" {
		keys = append(keys, local)
		if bare != local {
			keys = append(keys, bare)
		}
		return keys, nil
	}
	if bare != local {
		keys = append(keys, bare+"@"+domain)
	}
	isLocal, err := r.isLocal(stripTrailingDot(domain))
	if err != nil {
		return nil, err
	}
	if isLocal {
		keys = append(keys, local)
		if bare != local {
			keys = append(keys, bare)
		}
	}
	return append(keys, "@"+domain), nil
}
