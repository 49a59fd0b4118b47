// Applying a milter's modification actions to the message.

package milter

import (
	"bytes"
	"strings"

	gomilter "github.com/d--j/go-milter"
)

// apply carries out mods in order. Header values are kept as written
// after the colon, leading white space included; leadSpace says whether
// the milter's values come that way (SMFIP_HDR_LEADSPC) or need a space.
func apply(m *Message, mods []gomilter.ModifyAction, v *Verdict, leadSpace bool) {
	value := func(s string) string {
		s = strings.ReplaceAll(s, "\r\n", "\n")
		if !leadSpace && s != "" {
			s = " " + s
		}
		return s
	}
	bodyReplaced := false
	for _, mod := range mods {
		switch mod.Type {
		case gomilter.ActionAddRcpt:
			r := gomilter.RemoveAngle(mod.Rcpt)
			if !contains(m.Recipients, r) {
				m.Recipients = append(m.Recipients, r)
			}
		case gomilter.ActionDelRcpt:
			r := gomilter.RemoveAngle(mod.Rcpt)
			kept := m.Recipients[:0]
			for _, x := range m.Recipients {
				if !strings.EqualFold(x, r) {
					kept = append(kept, x)
				}
			}
			m.Recipients = kept
		case gomilter.ActionQuarantine:
			v.Hold, v.HoldReason = true, mod.Reason
		case gomilter.ActionReplaceBody:
			if !bodyReplaced {
				m.Body, bodyReplaced = nil, true
			}
			m.Body = append(m.Body, bytes.ReplaceAll(mod.Body, []byte("\r\n"), []byte("\n"))...)
		case gomilter.ActionChangeFrom:
			m.Sender = gomilter.RemoveAngle(mod.From)
		case gomilter.ActionAddHeader:
			m.Headers = append(m.Headers, Header{Name: mod.HeaderName, Value: value(mod.HeaderValue)})
		case gomilter.ActionInsertHeader:
			i := min(int(mod.HeaderIndex), len(m.Headers))
			h := Header{Name: mod.HeaderName, Value: value(mod.HeaderValue)}
			m.Headers = append(m.Headers[:i], append([]Header{h}, m.Headers[i:]...)...)
		case gomilter.ActionChangeHeader:
			changeHeader(m, int(mod.HeaderIndex), mod.HeaderName, value(mod.HeaderValue))
		}
	}
}

// changeHeader changes (or, with an empty value, deletes) the index-th
// header called name; a missing one is added.
func changeHeader(m *Message, index int, name, value string) {
	n := 0
	for i, h := range m.Headers {
		if !strings.EqualFold(h.Name, name) {
			continue
		}
		n++
		if n != index {
			continue
		}
		if value == "" {
			m.Headers = append(m.Headers[:i], m.Headers[i+1:]...)
		} else {
			m.Headers[i].Value = value
		}
		return
	}
	if value != "" {
		m.Headers = append(m.Headers, Header{Name: name, Value: value})
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
