// Tokens of an aliases(5) line in the RFC 822 style Postfix uses, and the
// normalised text postalias stores for them.
package aliases

import "strings"

// tokenKind classifies a token. Specials are their own character.
type tokenKind int

const (
	atomToken tokenKind = iota
	quotedToken
	commentToken
	literalToken // [domain literal]
	specialToken
)

// token is one lexical item. For atoms and quoted strings text is the
// content with backslash escapes resolved; a comment keeps its
// parentheses and raw text; a domain literal is "[content]" with escapes
// resolved; a special is its character.
type token struct {
	kind    tokenKind
	text    string
	escaped bool // an atom that held a backslash escape
}

// specials are the characters that stand alone between words.
const specials = "<>@,;:.%!|)]"

// needsQuoting lists the characters that make an escaped atom print
// as a quoted string.
const needsQuoting = "()<>@,;:\\\".[]%!| \t"

func (t token) wordLike() bool { return t.kind != specialToken }

func (t token) isSpecial(c byte) bool {
	return t.kind == specialToken && t.text[0] == c
}

// tokenize splits s into tokens. It accepts any input: an unterminated
// quoted string, comment or literal runs to the end of s.
func tokenize(s string) []token {
	var tokens []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
		case c == '"':
			text, next := scanQuoted(s, i+1)
			tokens = append(tokens, token{kind: quotedToken, text: text})
			i = next
		case c == '(':
			next := scanComment(s, i)
			tokens = append(tokens, token{kind: commentToken, text: s[i:next]})
			i = next
		case c == '[':
			text, next := scanLiteral(s, i+1)
			tokens = append(tokens, token{kind: literalToken, text: "[" + text + "]"})
			i = next
		case strings.IndexByte(specials, c) >= 0:
			tokens = append(tokens, token{kind: specialToken, text: s[i : i+1]})
			i++
		default:
			tok, next := scanAtom(s, i)
			tokens = append(tokens, tok)
			i = next
		}
	}
	return tokens
}

// scanQuoted reads a quoted string's content from s[i:], just after the
// opening quote, and returns it with the index after the closing quote.
func scanQuoted(s string, i int) (string, int) {
	var b strings.Builder
	for ; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if i+1 < len(s) {
				i++
				b.WriteByte(s[i])
			}
		case '"':
			return b.String(), i + 1
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String(), i
}

// scanComment returns the index after the parenthesis that closes the
// comment starting at s[i]. Comments nest.
func scanComment(s string, i int) int {
	depth := 0
	for ; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return i + 1
			}
		}
	}
	return len(s)
}

// scanLiteral reads a domain literal's content from s[i:], just after
// the '[', resolving backslash escapes, and returns it with the index
// after the ']'. An unterminated literal runs to the end of s.
func scanLiteral(s string, i int) (string, int) {
	var b strings.Builder
	for ; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if i+1 < len(s) {
				i++
				b.WriteByte(s[i])
			}
		case ']':
			return b.String(), i + 1
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String(), i
}

// scanAtom reads an atom, resolving backslash escapes.
func scanAtom(s string, i int) (token, int) {
	var b strings.Builder
	escaped := false
	for ; i < len(s); i++ {
		c := s[i]
		if c == '\\' {
			if i+1 < len(s) {
				i++
				b.WriteByte(s[i])
			}
			escaped = true
			continue
		}
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' ||
			c == '"' || c == '(' || c == '[' || strings.IndexByte(specials, c) >= 0 {
			break
		}
		b.WriteByte(c)
	}
	return token{kind: atomToken, text: b.String(), escaped: escaped}, i
}

// externalize prints tokens the way postalias stores them: one space
// between words, none around specials except after a comma and before
// '<'. With unquote, quoted strings lose their quotes (the "internal"
// form used for names and for delivery).
func externalize(tokens []token, unquote bool) string {
	var b strings.Builder
	for i, t := range tokens {
		if i > 0 && tokens[i-1].wordLike() && (t.wordLike() || t.isSpecial('<')) {
			b.WriteByte(' ')
		}
		switch {
		case t.kind == quotedToken && !unquote:
			writeQuoted(&b, t.text)
		case t.kind == atomToken && t.escaped && !unquote && strings.ContainsAny(t.text, needsQuoting):
			writeQuoted(&b, t.text)
		case t.isSpecial(','):
			b.WriteString(", ")
		default:
			b.WriteString(t.text)
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
