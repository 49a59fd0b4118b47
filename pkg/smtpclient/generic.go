// smtp_generic_maps: the smtp client's rewriting of the envelope sender,
// the envelope recipients and the primary header addresses of a message
// on its way out, typically from a local address to a global one, as
// Postfix's smtp(8) does.

package smtpclient

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/postern/postern/pkg/addr"
	"github.com/postern/postern/pkg/config"
	"github.com/postern/postern/pkg/header"
	"github.com/postern/postern/pkg/maps"
	"github.com/postern/postern/pkg/resolve"
)

// GenericMaps is smtp_generic_maps with what its lookups need: the
// finder's MyOrigin also qualifies a result without domain.
type GenericMaps struct {
	Tables []maps.Table
	resolve.AddressFinder
	// Propagate is true when propagate_unmatched_extensions has
	// "generic".
	Propagate bool
}

// genericHeaders are the headers whose addresses are rewritten: Postfix's
// sender and recipient address headers.
var genericHeaders = map[string]bool{
	"apparently-to": true, "bcc": true, "cc": true, "disposition-notification-to": true, "errors-to": true,
	"from": true, "mail-followup-to": true, "reply-to": true, "resent-bcc": true, "resent-cc": true,
	"resent-from": true, "resent-reply-to": true, "resent-sender": true, "resent-to": true,
	"return-path": true, "return-receipt-to": true, "sender": true, "to": true,
}

// Map returns the rewritten form of an internal-form address, or the
// address itself when no table has it. Keys are searched in
// mail_addr_find's order (see resolve.AddressFinder).
func (g *GenericMaps) Map(address string) (string, error) {
	if address == "" {
		return "", nil
	}
	m, found, err := g.Find(g.Tables, address)
	if err != nil {
		return "", fmt.Errorf("smtp_generic_maps map lookup problem for %s: %w", address, err)
	}
	if !found {
		return address, nil
	}
	return g.apply(m, addr.Split(address)), nil
}

// apply turns a table result into the new address: "@domain" keeps the
// local part, a result without domain gets @$myorigin, and an extension
// the lookup cut is put back when it propagates.
func (g *GenericMaps) apply(m resolve.AddressMatch, a addr.Address) string {
	result := strings.TrimSpace(m.Value)
	if items := config.SplitList(result); len(items) > 0 {
		result = items[0]
	}
	if strings.HasPrefix(result, "@") {
		return a.Local + result
	}
	r := addr.Split(result)
	if !strings.Contains(result, "@") {
		r.Domain = g.MyOrigin
	}
	if g.Propagate && m.Key.ExtensionCut && m.Extension != "" && !strings.ContainsAny(r.Local, g.Extensions.Delimiter) {
		r.Local += m.Extension
	}
	return r.Internal()
}

// genericMessage returns msg with its sender, its recipients and the
// addresses of its primary headers rewritten by smtp_generic_maps.
func (g *GenericMaps) genericMessage(msg *Message) (*Message, error) {
	out := *msg
	var err error
	if out.Sender, err = g.Map(msg.Sender); err != nil {
		return nil, err
	}
	out.Recipients = append(out.Recipients[:0:0], msg.Recipients...)
	for i := range out.Recipients {
		if out.Recipients[i].Address, err = g.Map(out.Recipients[i].Address); err != nil {
			return nil, err
		}
	}
	open := msg.Open
	out.Open = func() (io.ReadCloser, error) {
		rc, err := open()
		if err != nil {
			return nil, err
		}
		return g.rewriteHeaders(rc)
	}
	return &out, nil
}

// rewriteHeaders reads the primary header block of the content, bounded
// by header_size_limit's default as cleanup's is, and returns the content
// with the address headers rewritten.
func (g *GenericMaps) rewriteHeaders(rc io.ReadCloser) (io.ReadCloser, error) {
	s := header.NewScanner(rc, header.DefaultLimit)
	var head bytes.Buffer
	for s.Next() {
		out, err := g.rewriteHeader(s.Header())
		if err != nil {
			rc.Close()
			return nil, err
		}
		head.Write(out)
	}
	if err := s.Err(); err != nil {
		rc.Close()
		return nil, err
	}
	return readCloser{io.MultiReader(&head, s.Body()), rc}, nil
}

// rewriteHeader rewrites one address header (all its lines); others, and
// headers whose addresses do not change or do not parse, are kept as they
// are. A rewritten header lists its addresses separated by ", ", folded
// before 70 columns with a tab, as Postfix writes it.
func (g *GenericMaps) rewriteHeader(header []byte) ([]byte, error) {
	colon := bytes.IndexByte(header, ':')
	if colon <= 0 {
		return header, nil
	}
	name := string(header[:colon])
	if !genericHeaders[strings.ToLower(strings.TrimSpace(name))] {
		return header, nil
	}
	parts, changed, err := addr.MapAddressList(string(header[colon+1:]), g.Map)
	if err != nil {
		return header, err
	}
	if !changed {
		return header, nil
	}
	for i := range parts[:len(parts)-1] {
		parts[i] += ","
	}
	// The fold width does not count the tab of a continuation line.
	var out strings.Builder
	line := name + ": " + parts[0]
	width := len(line)
	for _, p := range parts[1:] {
		if width+1+len(p) < 70 {
			line += " " + p
			width += 1 + len(p)
			continue
		}
		out.WriteString(line + "\n")
		line, width = "\t"+p, len(p)
	}
	out.WriteString(line + "\n")
	return []byte(out.String()), nil
}

// readCloser reads from r and closes c.
type readCloser struct {
	io.Reader
	c io.Closer
}

func (r readCloser) Close() error { return r.c.Close() }
