// Address lists in message headers (To:, Cc:, From: ...): mailboxes with
// display names, angle addresses and groups, as RFC 5322 writes them.

package addr

import (
	"fmt"
	"strings"

	"github.com/postern/postern/pkg/rfc822"
)

// Mailbox is one address of a header address list.
type Mailbox struct {
	Name    string  // the display name, unquoted; "" when none
	Address Address // internal form
}

// String returns the mailbox in header form: `"Name" <addr>` or `addr`.
func (m Mailbox) String() string {
	if m.Name == "" {
		return m.Address.String()
	}
	return quotePhrase(m.Name) + " <" + m.Address.String() + ">"
}

// quotePhrase quotes a display name unless it is atoms separated by
// single spaces.
func quotePhrase(name string) string {
	words := strings.Fields(name)
	plain := len(words) > 0 && strings.Join(words, " ") == name
	for _, word := range words {
		if NeedsQuoting(word) || strings.Contains(word, ".") {
			plain = false
		}
	}
	if plain {
		return name
	}
	return `"` + quoteName.Replace(name) + `"`
}

// Built once (on first use): a Replacer is safe for concurrent use, and
// building one, a lookup trie, made garbage for every address header of
// every message cleanup read.
var (
	quoteName = strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	unfold    = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ")
)

// ParseAddressList parses the value of an address header. Folded lines
// (CRLF or LF followed by white space) are allowed. Groups ("team: a@x,
// b@y;") yield their members; empty entries and the null address "<>" are
// skipped. A bad entry does not stop the parse: the mailboxes that parse
// are returned together with an error naming the first bad entry.
func ParseAddressList(value string) ([]Mailbox, error) {
	unfolded := unfold.Replace(value)
	toks, err := tokenize(unfolded)
	if err != nil {
		return nil, fmt.Errorf("bad address list syntax: %q", value)
	}
	var (
		out      []Mailbox
		firstBad error
	)
	eachListEntry(toks, func(entry []token) {
		if len(entry) == 0 {
			return
		}
		mb, ok, err := parseEntry(entry)
		if err != nil {
			if firstBad == nil {
				firstBad = fmt.Errorf("bad address syntax in %q", renderTokens(entry))
			}
			return
		}
		if ok {
			out = append(out, mb)
		}
	})
	return out, firstBad
}

// eachListEntry calls f with the tokens of each entry of an address
// list: entries end at a ',' or ';' outside angle brackets, and a group
// name with its ':' is not part of the entry that follows it.
func eachListEntry(toks []token, f func(entry []token)) {
	start, depth := 0, 0
	for i, t := range toks {
		switch t.Kind {
		case '<':
			depth++
		case '>':
			if depth > 0 {
				depth--
			}
		case ':':
			if depth == 0 && isGroupStart(toks[start:i]) {
				start = i + 1 // the group name is not an address
			}
		case ',', ';':
			if depth == 0 {
				f(toks[start:i])
				start = i + 1
			}
		}
	}
	f(toks[start:])
}

// MapAddressList maps each address of an address header's value through
// f (internal form in, internal form out) and returns the mailboxes in
// header form, in order, with whether any address changed. A value that
// does not parse or lists no address maps to nothing, unchanged. An
// error from f stops the mapping.
func MapAddressList(value string, f func(internal string) (string, error)) (mailboxes []string, changed bool, err error) {
	list, err := ParseAddressList(value)
	if err != nil || len(list) == 0 {
		return nil, false, nil
	}
	mailboxes = make([]string, len(list))
	for i, m := range list {
		mapped, err := f(m.Address.Internal())
		if err != nil {
			return nil, false, err
		}
		if mapped != m.Address.Internal() {
			changed = true
			m.Address = Split(mapped)
		}
		mailboxes[i] = m.String()
	}
	return mailboxes, changed, nil
}

// isGroupStart reports whether the tokens before a ':' are a group name: a
// phrase of words, with no '@' or '<' (those would make it a route).
func isGroupStart(toks []token) bool {
	if len(toks) == 0 {
		return false
	}
	for _, t := range toks {
		if t.Kind != rfc822.Atom && t.Kind != rfc822.Quoted && t.Kind != '.' {
			return false
		}
	}
	return true
}

// parseEntry parses one mailbox: "Name <addr>", "<addr>" or "addr". ok is
// false for the null address.
func parseEntry(toks []token) (Mailbox, bool, error) {
	open := indexKind(toks, '<')
	if open < 0 {
		p, err := pathFromTokens(toks, false)
		if err != nil {
			return Mailbox{}, false, err
		}
		return Mailbox{Address: p.Address}, true, nil
	}
	closeAt := -1
	for i := len(toks) - 1; i > open; i-- {
		if toks[i].Kind == '>' {
			closeAt = i
			break
		}
	}
	if closeAt < 0 || closeAt != len(toks)-1 {
		return Mailbox{}, false, ErrBadPath
	}
	var name []string
	for _, t := range toks[:open] {
		if t.Kind != rfc822.Atom && t.Kind != rfc822.Quoted && t.Kind != '.' {
			return Mailbox{}, false, ErrBadPath
		}
		name = append(name, t.Text)
	}
	p, err := pathFromTokens(toks[open+1:closeAt], true)
	if err != nil {
		return Mailbox{}, false, err
	}
	if p.Null {
		return Mailbox{}, false, nil
	}
	return Mailbox{Name: strings.Join(name, " "), Address: p.Address}, true, nil
}

// renderTokens turns tokens back into text for error messages.
func renderTokens(toks []token) string {
	var b strings.Builder
	for i, t := range toks {
		if i > 0 && (t.Kind == rfc822.Atom || t.Kind == rfc822.Quoted) && (toks[i-1].Kind == rfc822.Atom || toks[i-1].Kind == rfc822.Quoted) {
			b.WriteByte(' ')
		}
		if t.Kind == rfc822.Quoted {
			b.WriteString(QuoteLocal(t.Text))
			continue
		}
		b.WriteString(t.Text)
	}
	return b.String()
}
