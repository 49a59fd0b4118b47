// Splitting master.cf text into words, with "{ ... }" grouping.

package mastercf

import (
	"fmt"
	"strings"
)

// splitWords splits s at blanks, except inside balanced "{ }": "-o { a = b }"
// gives "-o" and "{ a = b }". A "}" with no "{" open is an ordinary character.
func splitWords(s string) []string {
	var words []string
	start, depth := -1, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if start < 0 {
			if strings.IndexByte(blanks, c) >= 0 {
				continue
			}
			start, depth = i, 0
		}
		switch {
		case c == '{':
			depth++
		case c == '}' && depth > 0:
			depth--
		case depth == 0 && strings.IndexByte(blanks, c) >= 0:
			words = append(words, s[start:i])
			start = -1
		}
	}
	if start >= 0 {
		words = append(words, s[start:])
	}
	return words
}

// unbrace returns the text inside a word written as "{ text }", without the
// blanks after "{" and before "}". A word that does not start with "{" is
// returned as is. On a syntax error it still returns its best reading of the
// text (what postconf shows) along with the error (which master treats as
// fatal).
func unbrace(word string) (string, error) {
	if !strings.HasPrefix(word, "{") {
		return word, nil
	}
	depth := 0
	for i := 0; i < len(word); i++ {
		switch word[i] {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				inner := strings.Trim(word[1:i], blanks)
				if strings.Trim(word[i+1:], blanks) != "" {
					return inner, fmt.Errorf("syntax error after '}' in \"%s\"", word)
				}
				return inner, nil
			}
		}
	}
	return strings.Trim(word[1:], blanks), fmt.Errorf("missing '}' in \"%s\"", word)
}

// ParseOverride reads the value of a "-o" option as a daemon receives it:
// "name=value", "name = value" (from "-o { name = value }" in master.cf) or
// "{ name = value }". Errors are worded as Postfix's.
func ParseOverride(value string) (Option, error) {
	inner, err := unbrace(value)
	if err != nil {
		return Option{}, err
	}
	name, val, err := splitNameValue(inner)
	return Option{Name: name, Value: val}, err
}

// splitNameValue splits "name = value" as Postfix does: blanks around the
// name, around "=" and after the value are dropped; the name may not contain
// blanks.
func splitNameValue(text string) (name, value string, err error) {
	s := strings.TrimLeft(text, blanks)
	end := strings.IndexAny(s, "="+blanks)
	if end < 0 {
		end = len(s)
	}
	name, rest := s[:end], strings.TrimLeft(s[end:], blanks)
	if name == "" {
		return "", "", fmt.Errorf("missing attribute name: \"%s\"", text)
	}
	if !strings.HasPrefix(rest, "=") {
		return "", "", fmt.Errorf("missing '=' after attribute name: \"%s\"", text)
	}
	return name, strings.Trim(rest[1:], blanks), nil
}
