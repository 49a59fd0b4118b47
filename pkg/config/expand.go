// expand.go implements Postfix's $name expansion: $name, ${name}, $(name),
// ${name?text}, ${name:text}, ${name?{a}:{b}}, relational ${{a} OP {b}...}, $$.

package config

import (
	"errors"
	"fmt"
	"strings"
)

// maxNesting is how deep $name references may nest before Postfix gives up
// with "unreasonable macro call nesting".
const maxNesting = 100

// maxReferences and maxExpandedSize bound one expansion, so that values
// built to double at every level ($a = $b$b, $b = $c$c, ...) fail instead
// of exhausting memory. Postfix has no such limit; no sane main.cf is near.
const (
	maxReferences   = 100000
	maxExpandedSize = 4 << 20
)

// ErrMacro is wrapped by every expansion error; postconf reports it as
// "fatal: macro processing error" after printing the detail as a warning.
var ErrMacro = errors.New("macro processing error")

// ExpandError describes why a value could not be expanded, worded as Postfix
// words its warning (for example `unreasonable macro call nesting: "b"`).
type ExpandError struct{ Detail string }

func (e *ExpandError) Error() string { return e.Detail }

// Unwrap lets errors.Is(err, ErrMacro) identify expansion errors.
func (e *ExpandError) Unwrap() error { return ErrMacro }

func macroErr(format string, args ...any) error {
	return &ExpandError{Detail: fmt.Sprintf(format, args...)}
}

// LookupFunc returns the raw (unexpanded) value of a parameter and whether
// it is defined at all; err reports a default that cannot be computed.
type LookupFunc func(name string) (value string, defined bool, err error)

// expander evaluates one value. In scan mode every branch is visited, which
// is how postconf finds undefined names and nesting errors in main.cf.
type expander struct {
	lookup      LookupFunc
	onUndefined func(name string)
	onReference func(name string)
	scan        bool
	references  int
}

func isNameByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

func skipSpace(s string, i int) int {
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	return i
}

// expand replaces every $ construct in text. depth counts the parameter
// values being expanded on the way here.
func (x *expander) expand(text string, depth int) (string, error) {
	var out strings.Builder
	for i := 0; i < len(text); {
		c := text[i]
		if out.Len() > maxExpandedSize {
			return "", macroErr(`macro expansion result too long (more than %d bytes)`, maxExpandedSize)
		}
		if c != '$' {
			out.WriteByte(c)
			i++
			continue
		}
		if i+1 >= len(text) {
			return "", macroErr(`empty macro name: "%s"`, text)
		}
		switch n := text[i+1]; {
		case n == '$':
			out.WriteByte('$')
			i += 2
		case n == '{' || n == '(':
			end := matchClose(text, i+1)
			if end < 0 {
				return "", macroErr(`truncated macro reference: "%s"`, text)
			}
			v, err := x.call(text[i+2:end], depth)
			if err != nil {
				return "", err
			}
			out.WriteString(v)
			i = end + 1
		case isNameByte(n):
			j := i + 1
			for j < len(text) && isNameByte(text[j]) {
				j++
			}
			v, err := x.reference(text[i+1:j], depth)
			if err != nil {
				return "", err
			}
			out.WriteString(v)
			i = j
		default:
			return "", macroErr(`empty macro name: "%s"`, text)
		}
	}
	return out.String(), nil
}

// matchClose returns the index of the bracket closing the one at open,
// counting nested brackets of the same kind, or -1.
func matchClose(s string, open int) int {
	oc := s[open]
	cc := byte('}')
	if oc == '(' {
		cc = ')'
	}
	level := 0
	for i := open; i < len(s); i++ {
		switch s[i] {
		case oc:
			level++
		case cc:
			level--
			if level == 0 {
				return i
			}
		}
	}
	return -1
}

// get looks a name up, reporting references and undefined names.
func (x *expander) get(name string) (string, error) {
	if x.references++; x.references > maxReferences {
		return "", macroErr(`too many macro references (more than %d)`, maxReferences)
	}
	if x.onReference != nil {
		x.onReference(name)
	}
	v, ok, err := x.lookup(name)
	if err != nil {
		return "", err
	}
	if !ok && x.onUndefined != nil {
		x.onUndefined(name)
	}
	return v, nil
}

// reference expands $name: the value of name, itself expanded.
func (x *expander) reference(name string, depth int) (string, error) {
	v, err := x.get(name)
	if err != nil {
		return "", err
	}
	if depth > maxNesting {
		return "", macroErr(`unreasonable macro call nesting: "%s"`, name)
	}
	if !strings.Contains(v, "$") {
		return v, nil
	}
	return x.expand(v, depth+1)
}

// context formats the position of a syntax error as Postfix does:
// "...seen>>>rest".
func context(seen, rest string) string {
	return "..." + seen + ">>>" + rest
}

// call evaluates the inside of ${...} or $(...).
func (x *expander) call(body string, depth int) (string, error) {
	i := skipSpace(body, 0)
	if i < len(body) && body[i] == '{' {
		return x.relational(body, i, depth)
	}
	start := i
	for i < len(body) && isNameByte(body[i]) {
		i++
	}
	name := body[start:i]
	if name == "" {
		return "", macroErr(`attribute name syntax error at: "%s"`, context(name, body[i:]))
	}
	i = skipSpace(body, i)
	if i == len(body) {
		return x.reference(name, depth)
	}
	op := body[i]
	if op != '?' && op != ':' {
		return "", macroErr(`attribute name syntax error at: "%s"`, context(name, body[i:]))
	}
	// Only the value's emptiness matters here, so it is not expanded (and
	// ${name?...} inside name's own value is no loop).
	value, err := x.get(name)
	if err != nil {
		return "", err
	}
	ifSet, ifUnset, err := parseBranches(body, i)
	if err != nil {
		return "", err
	}
	return x.choose(value != "", ifSet, ifUnset, depth)
}

// branch is the text of one conditional result; present is false when the
// expression has no such branch.
type branch struct {
	text    string
	present bool
}

// parseBranches parses "?v1", "?{v1}:{v2}", ":v2" and the like, starting at
// the operator at body[i].
func parseBranches(body string, i int) (ifTrue, ifFalse branch, err error) {
	op := body[i]
	first, i, braced, err := parseOperand(body, i+1)
	if err != nil {
		return branch{}, branch{}, err
	}
	if op == ':' {
		ifFalse = branch{first, true}
	} else {
		ifTrue = branch{first, true}
	}
	if !braced {
		return ifTrue, ifFalse, nil
	}
	i = skipSpace(body, i)
	if i == len(body) {
		return ifTrue, ifFalse, nil
	}
	seen := lastToken(body, i)
	if op == ':' {
		return branch{}, branch{}, macroErr(`unexpected input at: "%s"`, context(seen, body[i:]))
	}
	if body[i] != ':' {
		return branch{}, branch{}, macroErr(`":" expected at: "%s"`, context(seen, body[i:]))
	}
	second, i, braced, err := parseOperand(body, i+1)
	if err != nil {
		return branch{}, branch{}, err
	}
	ifFalse = branch{second, true}
	if braced {
		if i = skipSpace(body, i); i < len(body) {
			return branch{}, branch{}, macroErr(`unexpected input at: "%s"`, context(lastToken(body, i), body[i:]))
		}
	}
	return ifTrue, ifFalse, nil
}

// parseOperand reads a "{text}" operand after optional whitespace, or else
// takes the rest of body literally. It returns the text and where it ended.
func parseOperand(body string, i int) (text string, end int, braced bool, err error) {
	j := skipSpace(body, i)
	if j < len(body) && body[j] == '{' {
		k := matchClose(body, j)
		if k < 0 {
			return "", 0, false, macroErr(`truncated macro reference: "%s"`, body[j:])
		}
		return body[j+1 : k], k + 1, true, nil
	}
	return body[i:], len(body), false, nil
}

// lastToken returns the text of the braced token that ends just before
// position i (after trailing whitespace), as Postfix shows it in errors.
func lastToken(body string, i int) string {
	end := i
	for end > 0 && isSpace(body[end-1]) {
		end--
	}
	start := end
	if start > 0 && body[start-1] == '}' {
		depth := 0
		for start > 0 {
			start--
			if body[start] == '}' {
				depth++
			} else if body[start] == '{' {
				depth--
				if depth == 0 {
					start++
					break
				}
			}
		}
	}
	return body[start:end]
}

// choose expands the branch that applies; in scan mode it visits both.
func (x *expander) choose(cond bool, ifTrue, ifFalse branch, depth int) (string, error) {
	if x.scan {
		for _, b := range []branch{ifTrue, ifFalse} {
			if _, err := x.expand(b.text, depth); err != nil {
				return "", err
			}
		}
		return "", nil
	}
	b := ifFalse
	if cond {
		b = ifTrue
	}
	if !b.present {
		return "", nil
	}
	return x.expand(b.text, depth)
}

// relational evaluates ${{a} OP {b} ? {v1} : {v2}}; body[i] is the first '{'.
func (x *expander) relational(body string, i, depth int) (string, error) {
	left, i, _, err := parseOperand(body, i)
	if err != nil {
		return "", err
	}
	i = skipSpace(body, i)
	opStart := i
	for i < len(body) && strings.IndexByte("=!<>", body[i]) >= 0 {
		i++
	}
	op := body[opStart:i]
	switch op {
	case "==", "!=", "<", "<=", ">", ">=":
	default:
		return "", macroErr(`"==" or "!="" or "<"" or "<="" or ">="" or ">" expected at: "%s"`,
			context(lastToken(body, opStart), body[opStart:]))
	}
	level := false
	if i < len(body) && isNameByte(body[i]) {
		j := i
		for j < len(body) && isNameByte(body[j]) {
			j++
		}
		if body[i:j] != "level" {
			return "", macroErr(`bad operator suffix at: "%s"`, context(op, body[i:j]))
		}
		level, i = true, j
	}
	j := skipSpace(body, i)
	if j >= len(body) || body[j] != '{' {
		return "", macroErr(`"{expression}" expected at: "%s"`, context(body[:i], body[i:]))
	}
	right, i, _, err := parseOperand(body, j)
	if err != nil {
		return "", err
	}
	a, err := x.expand(left, depth)
	if err != nil {
		return "", err
	}
	b, err := x.expand(right, depth)
	if err != nil {
		return "", err
	}
	var result bool
	if !x.scan {
		if result, err = compare(a, op, b, level); err != nil {
			return "", err
		}
	}
	i = skipSpace(body, i)
	if i == len(body) {
		if result {
			return "true", nil
		}
		return "", nil
	}
	if body[i] != '?' && body[i] != ':' {
		return "", macroErr(`"?" or ":" expected at: "%s"`, context("}", body[i:]))
	}
	ifTrue, ifFalse, err := parseBranches(body, i)
	if err != nil {
		return "", err
	}
	return x.choose(result, ifTrue, ifFalse, depth)
}
