// Lenient extraction of recipient addresses from a header value, for sendmail -t.

package addr

import (
	"slices"
	"strings"

	"github.com/postern/postern/pkg/rfc822"
)

// lenient is the forgiving token syntax of header extraction: any text
// scans, control characters stay inside atoms.
var lenient = rfc822.Syntax{Specials: "<>@,;:.[])"}

// ExtractRecipients returns the addresses of an address header's value
// in internal form, as Postfix's sendmail -t takes them: nothing is
// rejected. Entries are separated by commas (group names and ';' are
// dropped); "<...>" gives what is inside the angle brackets (the phrase
// before it is dropped), other tokens an address each run of them, a new
// address starting where two words meet without an operator ("Joe Bloggs
// joe@x" gives three, "<a@b> c@d" two).
// Quotes are removed, comments dropped, and a control character stays in
// the address it appears in. Empty entries give nothing.
func ExtractRecipients(value string) []string {
	toks, _ := rfc822.Tokenize(value, lenient)
	var out []string
	eachListEntry(toks, func(entry []token) { out = appendEntry(out, entry) })
	return out
}

// appendEntry adds the addresses of one comma-separated entry to out.
// It reads the entry from the right, as Postfix does: "<...>" is an
// address and the phrase before it (back to an earlier '>') is dropped;
// other tokens form addresses that end where two words meet.
func appendEntry(out []string, entry []token) []string {
	var found []string
	add := func(toks []token) {
		if a := internal(toks); a != "" {
			found = append(found, a)
		}
	}
	for i := len(entry) - 1; i >= 0; {
		if entry[i].Kind == '>' {
			open := lastKind(entry[:i], '<')
			add(entry[open+1 : i])
			i = open - 1
			for i >= 0 && entry[i].Kind != '>' && entry[i].Kind != ':' {
				i--
			}
			continue
		}
		start := i
		for start > 0 && entry[start-1].Kind != '>' && !(isWord(entry[start-1]) && isWord(entry[start])) {
			start--
		}
		add(entry[start : i+1])
		i = start - 1
	}
	slices.Reverse(found)
	return append(out, found...)
}

// lastKind returns the index of the last token of the kind, or -1.
func lastKind(toks []token, kind rfc822.Kind) int {
	for i := len(toks) - 1; i >= 0; i-- {
		if toks[i].Kind == kind {
			return i
		}
	}
	return -1
}

// isWord reports whether t is an atom, a quoted string or a literal.
func isWord(t token) bool {
	return t.Kind == rfc822.Atom || t.Kind == rfc822.Quoted || t.Kind == rfc822.Literal
}

// internal joins tokens into an address in internal form: quoted
// strings without their quotes, everything else as written.
func internal(toks []token) string {
	var b strings.Builder
	for _, t := range toks {
		b.WriteString(t.Text)
	}
	return b.String()
}

// ParseVrfy parses VRFY's argument as Postfix's smtpd does, more
// leniently than RCPT's path: outer angle brackets and a source route
// are dropped, the rest must hold exactly one address (a control
// character in it is kept) with, if any, a valid domain. ok is false
// for anything else, which smtpd answers with a syntax error.
func ParseVrfy(arg string) (a Address, ok bool) {
	if p, err := ParsePath(arg); err == nil {
		return p.Address, !p.Null
	}
	text := arg
	if len(text) >= 2 && text[0] == '<' && text[len(text)-1] == '>' {
		text = text[1 : len(text)-1]
	}
	if route, rest, found := strings.Cut(text, ":"); found && strings.HasPrefix(route, "@") {
		text = rest
	}
	list := ExtractRecipients(text)
	if len(list) != 1 {
		return Address{}, false
	}
	a = Split(list[0])
	if strings.Contains(list[0], "@") && !ValidDomain(strings.TrimSuffix(a.Domain, ".")) {
		return Address{}, false
	}
	return a, a.Local != ""
}
