// Automatic BCC recipients: always_bcc, sender_bcc_maps and
// recipient_bcc_maps, added as Postfix's cleanup adds them.

package cleanup

import (
	"strings"

	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/maps"
	"github.com/postern/postern/pkg/queue"
)

// bccLookup finds the BCC address for address in tables (sender_bcc_maps
// or recipient_bcc_maps): the address, without its extension, the local
// part for a local domain, then "@domain". "" when none.
func (s *Settings) bccLookup(tables []maps.Table, address string) (string, error) {
	if address == "" || len(tables) == 0 {
		return "", nil
	}
	m, found, err := s.lookup(tables, address)
	if err != nil || !found {
		return "", err
	}
	return strings.TrimSpace(m.Value), nil
}

// bccRecipients turns one BCC address into envelope recipients: it is
// rewritten in the local context, mapped through the recipient canonical
// tables and masqueraded (mapping on), then expanded through
// virtual_alias_maps. Its original recipient is the rewritten address,
// and it asks for no delivery status notification.
func (s *Settings) bccRecipients(bcc string, mapping bool) ([]queue.Recipient, error) {
	address := s.qualify(bcc)
	expanded := []string{address}
	if mapping {
		var err error
		if address, err = s.canonical(address, s.RecipientCanonicalMaps); err != nil {
			return nil, err
		}
		if s.Masquerade != nil && s.Masquerade.EnvelopeRecipient {
			if address, err = s.Masquerade.apply(address); err != nil {
				return nil, err
			}
		}
		if expanded, err = s.expandVirtual(address); err != nil {
			return nil, err
		}
	}
	out := make([]queue.Recipient, 0, len(expanded))
	for _, a := range expanded {
		out = append(out, queue.Recipient{Address: a, Original: address, DSNNotify: int(ipc.DSNNotifyNever)})
	}
	return out, nil
}
