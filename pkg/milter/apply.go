// A milter's modification actions, as values that travel between smtpd
// and cleanup, and their application to a message.

package milter

import (
	"bytes"
	"strings"

	gomilter "github.com/d--j/go-milter"
)

// EditKind is a modification action.
type EditKind uint32

// The modification actions (SMFIR_*). The numbers travel in the cleanup
// protocol; never reuse one.
const (
	EditAddHeader    EditKind = 1 // Name, Value
	EditInsertHeader EditKind = 2 // Index (0 = first), Name, Value
	EditChangeHeader EditKind = 3 // Index (1 = first of Name), Name, Value ("" deletes)
	EditAddRcpt      EditKind = 4 // Value: the address
	EditDelRcpt      EditKind = 5 // Value: the address
	EditChangeFrom   EditKind = 6 // Value: the address
	EditQuarantine   EditKind = 7 // Value: the reason
	EditReplaceBody  EditKind = 8 // Body, LF line ends
)

// Edit is one modification a milter asked for at the end of a message.
// Header values are as written after the colon, leading space included.
type Edit struct {
	Kind  EditKind
	Index int
	Name  string
	Value string
	Body  []byte
}

// edits converts the library's actions. Consecutive body pieces become
// one replacement body.
func edits(mods []gomilter.ModifyAction, leadSpace bool) []Edit {
	value := func(s string) string {
		s = strings.ReplaceAll(s, "\r\n", "\n")
		if !leadSpace && s != "" {
			s = " " + s
		}
		return s
	}
	var out []Edit
	body := -1
	for _, mod := range mods {
		switch mod.Type {
		case gomilter.ActionAddRcpt:
			out = append(out, Edit{Kind: EditAddRcpt, Value: gomilter.RemoveAngle(mod.Rcpt)})
		case gomilter.ActionDelRcpt:
			out = append(out, Edit{Kind: EditDelRcpt, Value: gomilter.RemoveAngle(mod.Rcpt)})
		case gomilter.ActionQuarantine:
			out = append(out, Edit{Kind: EditQuarantine, Value: mod.Reason})
		case gomilter.ActionReplaceBody:
			piece := bytes.ReplaceAll(mod.Body, []byte("\r\n"), []byte("\n"))
			if body < 0 {
				body = len(out)
				out = append(out, Edit{Kind: EditReplaceBody})
			}
			out[body].Body = append(out[body].Body, piece...)
		case gomilter.ActionChangeFrom:
			out = append(out, Edit{Kind: EditChangeFrom, Value: gomilter.RemoveAngle(mod.From)})
		case gomilter.ActionAddHeader:
			out = append(out, Edit{Kind: EditAddHeader, Name: mod.HeaderName, Value: value(mod.HeaderValue)})
		case gomilter.ActionInsertHeader:
			out = append(out, Edit{Kind: EditInsertHeader, Index: int(mod.HeaderIndex), Name: mod.HeaderName, Value: value(mod.HeaderValue)})
		case gomilter.ActionChangeHeader:
			out = append(out, Edit{Kind: EditChangeHeader, Index: int(mod.HeaderIndex), Name: mod.HeaderName, Value: value(mod.HeaderValue)})
		}
	}
	return out
}

// Apply carries out edits in order on m; a quarantine sets v.Hold.
func Apply(m *Message, edits []Edit, v *Verdict) {
	for _, e := range edits {
		switch e.Kind {
		case EditAddRcpt:
			if !contains(m.Recipients, e.Value) {
				m.Recipients = append(m.Recipients, e.Value)
			}
		case EditDelRcpt:
			kept := m.Recipients[:0]
			for _, x := range m.Recipients {
				if !strings.EqualFold(x, e.Value) {
					kept = append(kept, x)
				}
			}
			m.Recipients = kept
		case EditQuarantine:
			v.Hold, v.HoldReason = true, e.Value
		case EditReplaceBody:
			m.Body = e.Body
		case EditChangeFrom:
			m.Sender = e.Value
		case EditAddHeader:
			m.Headers = append(m.Headers, Header{Name: e.Name, Value: e.Value})
		case EditInsertHeader:
			i := min(max(e.Index, 0), len(m.Headers))
			h := Header{Name: e.Name, Value: e.Value}
			m.Headers = append(m.Headers[:i], append([]Header{h}, m.Headers[i:]...)...)
		case EditChangeHeader:
			changeHeader(m, e.Index, e.Name, e.Value)
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

// ParseMessage splits LF-terminated content into its headers (folded
// lines joined with "\n") and its body.
func ParseMessage(data []byte) *Message {
	m := &Message{}
	offset := 0
	for offset < len(data) {
		end := bytes.IndexByte(data[offset:], '\n')
		next := len(data)
		if end >= 0 {
			end += offset
			next = end + 1
		} else {
			end = len(data)
		}
		text := string(data[offset:end])
		switch {
		case len(m.Headers) > 0 && (strings.HasPrefix(text, " ") || strings.HasPrefix(text, "\t")):
			m.Headers[len(m.Headers)-1].Value += "\n" + text
		case text == "":
			m.Body = data[next:]
			return m
		default:
			name, value, ok := strings.Cut(text, ":")
			if !ok || strings.ContainsAny(name, " \t") || name == "" {
				m.Body = data[offset:]
				return m
			}
			m.Headers = append(m.Headers, Header{Name: name, Value: value})
		}
		offset = next
	}
	return m
}

// Content is the inverse of ParseMessage: headers, an empty line, body.
func (m *Message) Content() []byte {
	var b bytes.Buffer
	for _, h := range m.Headers {
		b.WriteString(h.Name + ":" + h.Value + "\n")
	}
	b.WriteString("\n")
	b.Write(m.Body)
	return b.Bytes()
}
