// Tokens of an aliases(5) line in the RFC 822 style Postfix uses, and the
// normalised text postalias stores for them.

package aliases

import (
	"strings"

	"github.com/postern/postern/pkg/rfc822"
)

type token = rfc822.Token

// needsQuoting lists the characters that make an escaped atom print
// as a quoted string.
const needsQuoting = "()<>@,;:\\\".[]%!| \t"

// wordLike reports whether t is a word (not a special) for spacing.
func wordLike(t token) bool {
	switch t.Kind {
	case rfc822.Atom, rfc822.Quoted, rfc822.Comment, rfc822.Literal:
		return true
	}
	return false
}

// tokenize splits s into tokens in the lenient aliases syntax, which
// accepts any input.
func tokenize(s string) []token {
	tokens, _ := rfc822.Tokenize(s, rfc822.Alias)
	return tokens
}

// externalize prints tokens the way postalias stores them: one space
// between words, none around specials except after a comma and before
// '<'. With unquote, quoted strings lose their quotes (the "internal"
// form used for names and for delivery).
func externalize(tokens []token, unquote bool) string {
	var b strings.Builder
	for i, t := range tokens {
		if i > 0 && wordLike(tokens[i-1]) && (wordLike(t) || t.Is('<')) {
			b.WriteByte(' ')
		}
		switch {
		case t.Kind == rfc822.Quoted && !unquote:
			writeQuoted(&b, t.Text)
		case t.Kind == rfc822.Atom && t.Escaped && !unquote && strings.ContainsAny(t.Text, needsQuoting):
			writeQuoted(&b, t.Text)
		case t.Is(','):
			b.WriteString(", ")
		default:
			b.WriteString(t.Text)
		}
	}
	return b.String()
}

func writeQuoted(b *strings.Builder, text string) {
	b.WriteByte('"')
	for i := 0; i < len(text); i++ {
		if text[i] == '"' || text[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(text[i])
	}
	b.WriteByte('"')
}
