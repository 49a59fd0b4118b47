// inline: a table written in the spec itself, inline:{ k=v, {k2 = v w/ space} }.

package maps

import (
	"fmt"
	"strings"
)

func init() { Register("inline", openInline) }

func openInline(name string, opts Options) (Table, error) {
	items, err := splitInline(name)
	if err != nil {
		return nil, fmt.Errorf("%s: \"inline:%s\"; need \"inline:{name=value...}\"", err, name)
	}
	t := newMemoryTable("inline:"+name, opts)
	for _, item := range items {
		key, value, err := inlineEntry(item)
		if err != nil {
			return nil, fmt.Errorf("%s: \"inline:%s\"; need \"inline:{name=value...}\"", err, name)
		}
		t.add(key, value)
	}
	return t, nil
}

// splitInline returns the items of "{ item, item ... }". Items are
// separated by commas and/or whitespace; braces group an item that
// contains separators.
func splitInline(name string) ([]string, error) {
	if len(name) <= 2 || name[0] != '{' || name[len(name)-1] != '}' || !bracesBalanced(name[1:len(name)-1]) {
		return nil, fmt.Errorf("bad syntax")
	}
	items := splitBraced(name[1 : len(name)-1])
	if len(items) == 0 {
		return nil, fmt.Errorf("empty table")
	}
	return items, nil
}

// bracesBalanced reports whether every '{' in s has its '}'.
func bracesBalanced(s string) bool {
	depth := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '{':
			depth++
		case '}':
			depth--
			if depth < 0 {
				return false
			}
		}
	}
	return depth == 0
}

// splitBraced splits balanced text on commas and whitespace outside braces.
func splitBraced(s string) []string {
	var items []string
	depth, start := 0, -1
	for i := 0; i <= len(s); i++ {
		separator := i == len(s) || (depth == 0 && (s[i] == ',' || isSpace(s[i])))
		if separator {
			if start >= 0 {
				items = append(items, s[start:i])
				start = -1
			}
			continue
		}
		if start < 0 {
			start = i
		}
		switch s[i] {
		case '{':
			depth++
		case '}':
			depth--
		}
	}
	return items
}

// inlineEntry splits one item into key and value. A braced item may have
// whitespace around '=' and in its value.
func inlineEntry(item string) (key, value string, err error) {
	if item[0] == '{' {
		inner, err := unbrace(item)
		if err != nil {
			return "", "", err
		}
		if inner == "" {
			return "", "", fmt.Errorf("no key found; expected format: key = value")
		}
		key, value, ok := strings.Cut(inner, "=")
		if !ok {
			return "", "", fmt.Errorf("missing '=' after attribute name")
		}
		return strings.TrimRight(key, " \t\r\n\f\v"), strings.TrimLeft(value, " \t\r\n\f\v"), nil
	}
	key, value, ok := strings.Cut(item, "=")
	if !ok {
		return "", "", fmt.Errorf("missing '=' after attribute name")
	}
	return key, value, nil
}

// unbrace strips the braces of "{ text }" and the whitespace inside them.
// Text after the closing brace is an error.
func unbrace(s string) (string, error) {
	depth := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				if i != len(s)-1 {
					return "", fmt.Errorf("syntax error after '}' in \"%s\"", s)
				}
				return strings.Trim(s[1:i], " \t\r\n\f\v"), nil
			}
		}
	}
	return "", fmt.Errorf("missing '}' in \"%s\"", s)
}
