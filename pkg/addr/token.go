// An RFC 822 tokenizer for SMTP paths: atoms, quoted strings, domain
// literals and specials, with white space and comments dropped.

package addr

// Token kinds other than the specials, which are their own byte.
const (
	tokAtom    = 'a'
	tokQuoted  = 'q'
	tokLiteral = 'l'
)

// token is one lexical token. text is the atom, the unquoted content of a
// quoted string, the whole "[...]" of a literal, or the special itself.
type token struct {
	kind byte
	text string
}

// tokenSpecials are the characters that end an atom and stand alone.
const tokenSpecials = "<>@,;:.[]"

// maxCommentDepth bounds nested comments.
const maxCommentDepth = 100

// tokenize splits a path into tokens. CR, LF and NUL, unbalanced quotes,
// brackets or parentheses, and a trailing backslash are syntax errors.
func tokenize(s string) ([]token, error) {
	var toks []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == '\r' || c == '\n' || c == 0:
			return nil, ErrBadPath
		case c == ' ' || c == '\t':
			i++
		case c == '(':
			end, err := skipComment(s, i)
			if err != nil {
				return nil, err
			}
			i = end
		case c == '"':
			text, end, err := scanQuoted(s, i+1, '"')
			if err != nil {
				return nil, err
			}
			toks = append(toks, token{kind: tokQuoted, text: text})
			i = end
		case c == '[':
			text, end, err := scanQuoted(s, i+1, ']')
			if err != nil {
				return nil, err
			}
			toks = append(toks, token{kind: tokLiteral, text: "[" + text + "]"})
			i = end
		case c == ')' || c == ']' || c == '\\' && i+1 >= len(s):
			return nil, ErrBadPath
		case indexByte(tokenSpecials, c):
			toks = append(toks, token{kind: c, text: string(c)})
			i++
		default:
			text, end, err := scanAtom(s, i)
			if err != nil {
				return nil, err
			}
			toks = append(toks, token{kind: tokAtom, text: text})
			i = end
		}
	}
	return toks, nil
}

// scanAtom reads an atom starting at i; a backslash makes the next byte
// part of the atom.
func scanAtom(s string, i int) (string, int, error) {
	var b []byte
	for i < len(s) {
		c := s[i]
		if c < ' ' && c != '\t' || c == 0x7f {
			return "", 0, ErrBadPath
		}
		if c == ' ' || c == '\t' || c == '"' || c == '(' || c == ')' || indexByte(tokenSpecials, c) {
			break
		}
		if c == '\\' {
			i++
			if i >= len(s) || s[i] == '\r' || s[i] == '\n' || s[i] == 0 {
				return "", 0, ErrBadPath
			}
			c = s[i]
		}
		b = append(b, c)
		i++
	}
	if len(b) == 0 {
		return "", 0, ErrBadPath
	}
	return string(b), i, nil
}

// scanQuoted reads up to the closing byte, resolving backslash escapes,
// and returns the content and the index after the closing byte.
func scanQuoted(s string, i int, closing byte) (string, int, error) {
	var b []byte
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\r' || c == '\n' || c == 0:
			return "", 0, ErrBadPath
		case c == '\\':
			i++
			if i >= len(s) || s[i] == '\r' || s[i] == '\n' || s[i] == 0 {
				return "", 0, ErrBadPath
			}
			b = append(b, s[i])
		case c == closing:
			return string(b), i + 1, nil
		default:
			b = append(b, c)
		}
	}
	return "", 0, ErrBadPath
}

// skipComment skips a possibly nested "( ... )" starting at i.
func skipComment(s string, i int) (int, error) {
	depth := 0
	for ; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '(':
			depth++
			if depth > maxCommentDepth {
				return 0, ErrBadPath
			}
		case ')':
			depth--
			if depth == 0 {
				return i + 1, nil
			}
		case '\r', '\n', 0:
			return 0, ErrBadPath
		}
	}
	return 0, ErrBadPath
}

// indexKind returns the index of the first token of the kind, or -1.
func indexKind(toks []token, kind byte) int {
	for i, t := range toks {
		if t.kind == kind {
			return i
		}
	}
	return -1
}

func indexByte(s string, c byte) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return true
		}
	}
	return false
}
