// regexp_inline.go splits the inline forms regexp:{ {/re/ result}, ... } and cidr:{ ... } into their rules.

package maps

import (
	"fmt"
	"strings"
)

// inlineSeparators separate the {...} items of an inline table.
const inlineSeparators = ", \t\r\n"

// splitInlineRules returns the text inside each {...} item of text, which
// must be one {...} block. Errors are worded as Postfix's fatal errors.
func splitInlineRules(text string) ([]string, error) {
	end := matchingBrace(text, 0)
	if end < 0 {
		return nil, fmt.Errorf("missing '}' in \"%s\"", text)
	}
	if end != len(text)-1 {
		return nil, fmt.Errorf("syntax error after '}' in \"%s\"", text)
	}
	inner := text[1:end]
	var items []string
	for pos := 0; ; {
		for pos < len(inner) && strings.IndexByte(inlineSeparators, inner[pos]) >= 0 {
			pos++
		}
		if pos == len(inner) {
			return items, nil
		}
		token := inner[pos:tokenEnd(inner, pos)]
		pos += len(token)
		if token[0] != '{' {
			return nil, fmt.Errorf("no '{' at start of text in \"%s\"", token)
		}
		close := matchingBrace(token, 0)
		if close < 0 {
			return nil, fmt.Errorf("missing '}' in \"%s\"", token)
		}
		if close != len(token)-1 {
			return nil, fmt.Errorf("syntax error after '}' in \"%s\"", token)
		}
		items = append(items, strings.Trim(token[1:close], " \t\r\n"))
	}
}

// tokenEnd returns the index of the first separator at or after pos that
// is not inside braces.
func tokenEnd(text string, pos int) int {
	depth := 0
	for ; pos < len(text); pos++ {
		switch c := text[pos]; {
		case c == '{':
			depth++
		case c == '}':
			depth--
		case depth <= 0 && strings.IndexByte(inlineSeparators, c) >= 0:
			return pos
		}
	}
	return pos
}

// matchingBrace returns the index of the '}' that closes the '{' at open,
// or -1 when it is missing.
func matchingBrace(text string, open int) int {
	depth := 0
	for i := open; i < len(text); i++ {
		switch text[i] {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}
