// regexp_replace.go parses and expands the $1, ${1}, $(1) and $$ references in regexp table results.

package maps

import (
	"fmt"
	"strings"
)

// replacementPart is literal text (group 0) or a reference to group n.
type replacementPart struct {
	text  string
	group int
}

// replacementProblem is a complaint about a result text. general ones
// are logged by Postfix without the "FILE, line N:" prefix.
type replacementProblem struct {
	text    string
	general bool
}

// maxReplacementIndex caps parsed group numbers; anything above is out
// of range for every pattern anyway.
const maxReplacementIndex = 1 << 20

// parseReplacement splits a result into literal text and group references.
func parseReplacement(text string) ([]replacementPart, []replacementProblem) {
	var parts []replacementPart
	var literal strings.Builder
	var problems []replacementProblem
	for i := 0; i < len(text); i++ {
		if text[i] != '$' {
			literal.WriteByte(text[i])
			continue
		}
		if i+1 < len(text) && text[i+1] == '$' {
			literal.WriteByte('$')
			i++
			continue
		}
		name, next, problem := macroName(text, i+1)
		if problem != "" {
			return nil, []replacementProblem{{text: problem, general: true}}
		}
		i = next - 1
		n, ok := replacementIndex(name)
		switch {
		case !ok:
			problems = append(problems, replacementProblem{text: fmt.Sprintf("non-numeric replacement index \"%s\"", name)})
		case n == 0:
			problems = append(problems, replacementProblem{text: fmt.Sprintf("out-of-range replacement index \"%s\"", name)})
		default:
			if literal.Len() > 0 {
				parts = append(parts, replacementPart{text: literal.String()})
				literal.Reset()
			}
			parts = append(parts, replacementPart{group: n})
		}
		if len(problems) > 0 {
			return nil, problems
		}
	}
	if literal.Len() > 0 {
		parts = append(parts, replacementPart{text: literal.String()})
	}
	return parts, nil
}

// macroName reads the name after a '$' at start: {name}, (name) or a run
// of letters, digits and underscores. It returns the index after the
// reference, or a problem worded as Postfix's macro parser words it.
func macroName(text string, start int) (name string, next int, problem string) {
	if start < len(text) && (text[start] == '{' || text[start] == '(') {
		closer := byte('}')
		if text[start] == '(' {
			closer = ')'
		}
		end := strings.IndexByte(text[start+1:], closer)
		if end < 0 {
			return "", 0, fmt.Sprintf("truncated macro reference: \"%s\"", text)
		}
		name = text[start+1 : start+1+end]
		if name == "" {
			return "", 0, fmt.Sprintf("empty macro name: \"%s\"", text)
		}
		return name, start + 1 + end + 1, ""
	}
	end := start
	for end < len(text) && (isASCIIAlnum(text[end]) || text[end] == '_') {
		end++
	}
	if end == start {
		return "", 0, fmt.Sprintf("empty macro name: \"%s\"", text)
	}
	return text[start:end], end, ""
}

// replacementIndex parses an all-digit group number.
func replacementIndex(name string) (int, bool) {
	n := 0
	for i := 0; i < len(name); i++ {
		if name[i] < '0' || name[i] > '9' {
			return 0, false
		}
		if n < maxReplacementIndex {
			n = n*10 + int(name[i]-'0')
		}
	}
	return n, true
}

// highestGroup returns the largest group number a result refers to.
func highestGroup(parts []replacementPart) int {
	highest := 0
	for _, p := range parts {
		highest = max(highest, p.group)
	}
	return highest
}

// expandReplacement builds a result from the submatch indexes m of
// subject (a bytesAsRunes string). A group that did not take part in the
// match expands to nothing.
func expandReplacement(parts []replacementPart, subject string, m []int) string {
	var b strings.Builder
	for _, p := range parts {
		if p.group == 0 {
			b.WriteString(p.text)
			continue
		}
		if lo, hi := m[2*p.group], m[2*p.group+1]; lo >= 0 {
			b.WriteString(runesAsBytes(subject[lo:hi]))
		}
	}
	return b.String()
}
