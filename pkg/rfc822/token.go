// Package rfc822 splits text into RFC 822 lexical tokens — atoms, quoted
// strings, comments, domain literals and specials — as Postfix's tok822
// scanner does. SMTP paths and address headers (pkg/addr) use the strict
// Path syntax, aliases(5) lines (pkg/aliases) the lenient Alias syntax.
package rfc822

import (
	"errors"
	"strings"
)

// Kind classifies a token. A special's kind is its own byte.
type Kind byte

// Token kinds other than the specials.
const (
	Atom    Kind = 'a'
	Quoted  Kind = 'q'
	Literal Kind = 'l'
	Comment Kind = 'c'
)

// Token is one lexical token. Text is the atom or the content of a quoted
// string with backslash escapes resolved, the whole "[...]" of a domain
// literal (escapes resolved), a comment's raw text with its parentheses,
// or the special itself.
type Token struct {
	Kind Kind
	Text string
	// Escaped marks an atom that held a backslash escape.
	Escaped bool
}

// Is reports whether t is the special c.
func (t Token) Is(c byte) bool { return t.Kind == Kind(c) }

// Syntax says which bytes are specials and how forgiving the scan is.
type Syntax struct {
	// Specials are the bytes that end an atom and stand alone.
	Specials string
	// Strict makes CR, LF and NUL, unterminated quoted strings, literals
	// and comments, comments nested deeper than MaxCommentDepth, a stray
	// ')' or ']' and a trailing backslash syntax errors. Other control
	// characters are part of an atom, as in Postfix's tok822 scanner.
	// Without Strict any input scans: an unterminated item runs to the
	// end, and CR, LF, FF and VT are white space.
	Strict bool
	// KeepComments returns comments as tokens instead of dropping them.
	KeepComments bool
}

// Path is the syntax of SMTP paths and address header values.
var Path = Syntax{Specials: "<>@,;:.[]", Strict: true}

// Alias is the syntax of aliases(5) lines, with Postfix's extra specials
// for source routes and commands ('%', '!', '|').
var Alias = Syntax{Specials: "<>@,;:.%!|)]", KeepComments: true}

// MaxCommentDepth bounds nested comments in the strict syntax.
const MaxCommentDepth = 100

// ErrSyntax is the error for text the strict syntax does not accept.
var ErrSyntax = errors.New("RFC 822 syntax error")

// Tokenize splits s into tokens. Only the strict syntax returns errors.
func Tokenize(s string, syn Syntax) ([]Token, error) {
	sc := scanner{s: s, syn: syn}
	var toks []Token
	for sc.i < len(s) {
		c := s[sc.i]
		var (
			tok Token
			ok  = true
		)
		switch {
		case syn.Strict && (c == '\r' || c == '\n' || c == 0):
			return nil, ErrSyntax
		case sc.space(c):
			sc.i++
			continue
		case c == '(':
			start := sc.i
			if !sc.comment() {
				return nil, ErrSyntax
			}
			if !syn.KeepComments {
				continue
			}
			tok = Token{Kind: Comment, Text: s[start:sc.i]}
		case c == '"':
			sc.i++
			tok.Kind = Quoted
			tok.Text, ok = sc.quoted('"')
		case c == '[':
			sc.i++
			tok.Kind = Literal
			tok.Text, ok = sc.quoted(']')
			tok.Text = "[" + tok.Text + "]"
		case syn.Strict && (c == ')' || c == ']' || c == '\\' && sc.i+1 >= len(s)):
			return nil, ErrSyntax
		case strings.IndexByte(syn.Specials, c) >= 0:
			tok = Token{Kind: Kind(c), Text: s[sc.i : sc.i+1]}
			sc.i++
		default:
			tok, ok = sc.atom()
		}
		if !ok {
			return nil, ErrSyntax
		}
		toks = append(toks, tok)
	}
	return toks, nil
}

// scanner is a position in the text being split.
type scanner struct {
	s   string
	i   int
	syn Syntax
}

func (sc *scanner) space(c byte) bool {
	if c == ' ' || c == '\t' {
		return true
	}
	return !sc.syn.Strict && (c == '\n' || c == '\r' || c == '\f' || c == '\v')
}

// forbidden reports whether c may not stand inside a strict quoted
// string, literal, comment or escape.
func (sc *scanner) forbidden(c byte) bool {
	return sc.syn.Strict && (c == '\r' || c == '\n' || c == 0)
}

// atom reads an atom; a backslash makes the next byte part of it.
func (sc *scanner) atom() (Token, bool) {
	var b strings.Builder
	tok := Token{Kind: Atom}
	for ; sc.i < len(sc.s); sc.i++ {
		c := sc.s[sc.i]
		if sc.forbidden(c) {
			return tok, false
		}
		if sc.space(c) || c == '"' || c == '(' || c == ')' || c == '[' || strings.IndexByte(sc.syn.Specials, c) >= 0 {
			break
		}
		if c == '\\' {
			tok.Escaped = true
			if sc.i+1 >= len(sc.s) || sc.forbidden(sc.s[sc.i+1]) {
				if sc.syn.Strict {
					return tok, false
				}
				continue
			}
			sc.i++
			c = sc.s[sc.i]
		}
		b.WriteByte(c)
	}
	tok.Text = b.String()
	return tok, tok.Text != "" || !sc.syn.Strict
}

// quoted reads up to the closing byte, resolving backslash escapes, and
// leaves the position after it.
func (sc *scanner) quoted(closing byte) (string, bool) {
	var b strings.Builder
	for ; sc.i < len(sc.s); sc.i++ {
		c := sc.s[sc.i]
		switch {
		case sc.forbidden(c):
			return "", false
		case c == '\\':
			if sc.i+1 >= len(sc.s) || sc.forbidden(sc.s[sc.i+1]) {
				if sc.syn.Strict {
					return "", false
				}
				continue
			}
			sc.i++
			b.WriteByte(sc.s[sc.i])
		case c == closing:
			sc.i++
			return b.String(), true
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), !sc.syn.Strict
}

// comment skips a comment, which may nest, and leaves the position after
// its closing parenthesis.
func (sc *scanner) comment() bool {
	depth := 0
	for ; sc.i < len(sc.s); sc.i++ {
		switch c := sc.s[sc.i]; {
		case c == '\\':
			sc.i++
		case c == '(':
			depth++
			if sc.syn.Strict && depth > MaxCommentDepth {
				return false
			}
		case c == ')':
			depth--
			if depth == 0 {
				sc.i++
				return true
			}
		case sc.forbidden(c):
			return false
		}
	}
	sc.i = len(sc.s)
	return !sc.syn.Strict
}
