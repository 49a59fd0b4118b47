// Rewriting the addresses in message headers, in Postfix's local or remote rewriting context.

package cleanup

import (
	"strings"

	"github.com/postern/postern/pkg/addr"
	"github.com/postern/postern/pkg/maps"
)

// senderHeaders and recipientHeaders are the address headers cleanup
// rewrites, with the canonical table set that applies to each.
var (
	senderHeaders = map[string]bool{
		"from": true, "sender": true, "reply-to": true, "resent-from": true, "resent-sender": true,
		"return-receipt-to": true, "errors-to": true,
	}
	recipientHeaders = map[string]bool{
		"to": true, "cc": true, "bcc": true, "resent-to": true, "resent-cc": true, "resent-bcc": true,
	}
)

// Header rewriting contexts.
const (
	headerContextLocal  = "local"
	headerContextRemote = "remote"
)

// headerContext returns the context in which the header addresses of a
// message are rewritten: local for local submissions and clients in
// local_header_rewrite_clients, remote for other SMTP mail when
// remote_header_rewrite_domain is set, and "" (no rewriting) otherwise.
func (s *Settings) headerContext(localClient bool) string {
	switch {
	case localClient:
		return headerContextLocal
	case s.RemoteHeaderDomain != "":
		return headerContextRemote
	}
	return ""
}

// rewriteHeader qualifies the addresses of an address header and maps
// them through the canonical tables (when mapping is on). A header whose
// addresses all stay the same, or that does not parse, is kept byte for
// byte; a changed one is written again as "Name: a, Name <b>" on one line.
func (c *contentWriter) rewriteHeader(name string, header []byte) []byte {
	var specific []maps.Table
	masquerade := c.s.Masquerade
	switch {
	case senderHeaders[name]:
		specific = c.s.SenderCanonicalMaps
		if masquerade != nil && !masquerade.HeaderSender {
			masquerade = nil
		}
	case recipientHeaders[name]:
		specific = c.s.RecipientCanonicalMaps
		if masquerade != nil && !masquerade.HeaderRecipient {
			masquerade = nil
		}
	default:
		return header
	}
	origin, domain := c.s.MyOrigin, c.s.MyDomain
	if c.headerContext == headerContextRemote {
		origin, domain = c.s.RemoteHeaderDomain, c.s.RemoteHeaderDomain
	}
	colon := strings.IndexByte(string(header), ':')
	mailboxes, changed, _ := addr.MapAddressList(string(header[colon+1:]), func(address string) (string, error) {
		rewritten := c.s.qualifyWith(address, origin, domain)
		if c.mapping {
			if mapped, err := c.s.canonical(rewritten, specific); err == nil {
				rewritten = mapped
			}
			if masked, err := masquerade.apply(rewritten); err == nil {
				rewritten = masked
			}
		}
		return rewritten, nil
	})
	if !changed {
		return header
	}
	return []byte(string(header[:colon]) + ": " + strings.Join(mailboxes, ", ") + "\n")
}
