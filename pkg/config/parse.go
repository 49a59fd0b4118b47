// parse.go reads main.cf's "name = value" logical lines as Postfix does.

package config

import (
	"fmt"
	"strings"
)

// Setting is one "name = value" entry. Line is the first physical line of
// the logical line in main.cf (0 for settings that did not come from a file).
type Setting struct {
	Name  string
	Value string
	Line  int
}

// logicalLine is a main.cf entry with its continuation lines joined.
type logicalLine struct {
	text      string
	firstLine int // 1-based number of the first physical line
	lastLine  int // 1-based number of the last physical line that belongs to it
}

// isBlankOrComment reports whether a physical line is skipped: empty, only
// whitespace, or with '#' as its first non-blank character.
func isBlankOrComment(line string) bool {
	i := skipSpace(line, 0)
	return i == len(line) || line[i] == '#'
}

// splitPhysical splits file contents into lines without their newlines.
func splitPhysical(data string) []string {
	lines := strings.Split(data, "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// readLogicalLines joins continuation lines (those starting with
// whitespace) to the line before them. Blank and comment lines are skipped
// and do not end a logical line. A continuation with nothing before it is
// reported through warn and dropped, as Postfix does.
func readLogicalLines(path, data string, warn func(string)) []logicalLine {
	var out []logicalLine
	var cur *logicalLine
	var orphan *strings.Builder
	for n, line := range splitPhysical(data) {
		num := n + 1
		if isBlankOrComment(line) {
			continue
		}
		if isSpace(line[0]) {
			switch {
			case cur != nil:
				cur.text += line
				cur.lastLine = num
			case orphan != nil:
				orphan.WriteString(line)
			default:
				orphan = &strings.Builder{}
				orphan.WriteString(line)
			}
			continue
		}
		if orphan != nil {
			warn(fmt.Sprintf("%s: logical line must not start with whitespace: \"%s\"", path, trimRightSpace(orphan.String())))
			orphan = nil
		}
		out = append(out, logicalLine{text: line, firstLine: num, lastLine: num})
		cur = &out[len(out)-1]
	}
	if orphan != nil {
		warn(fmt.Sprintf("%s: logical line must not start with whitespace: \"%s\"", path, trimRightSpace(orphan.String())))
	}
	return out
}

func trimRightSpace(s string) string {
	end := len(s)
	for end > 0 && isSpace(s[end-1]) {
		end--
	}
	return s[:end]
}

// SplitNameValue splits "name = value" the way Postfix does for main.cf
// lines, -o overrides and postconf -e arguments: the name runs up to
// whitespace or '=', whitespace around '=' and at the end is dropped.
func SplitNameValue(s string) (name, value string, err error) {
	s = trimRightSpace(s[skipSpace(s, 0):])
	i := 0
	for i < len(s) && !isSpace(s[i]) && s[i] != '=' {
		i++
	}
	if i == 0 {
		return "", "", fmt.Errorf("missing attribute name")
	}
	name = s[:i]
	i = skipSpace(s, i)
	if i == len(s) || s[i] != '=' {
		return "", "", fmt.Errorf("missing '=' after attribute name")
	}
	return name, s[skipSpace(s, i+1):], nil
}

// ParseMainCF parses main.cf contents. Later settings of a name replace
// earlier ones; each replacement is reported through warn as postconf does.
// A malformed line is an error naming path and line.
func ParseMainCF(path string, data []byte, warn func(string)) ([]Setting, error) {
	if warn == nil {
		warn = func(string) {}
	}
	var settings []Setting
	index := map[string]int{}
	for _, ll := range readLogicalLines(path, string(data), warn) {
		text := trimRightSpace(ll.text)
		name, value, err := SplitNameValue(text)
		if err != nil {
			return nil, fmt.Errorf("%s, line %d: %v: \"%s\"", path, ll.firstLine, err, text)
		}
		if at, dup := index[name]; dup {
			warn(fmt.Sprintf("%s, line %d: overriding earlier entry: %s=%s", path, ll.firstLine, name, settings[at].Value))
			settings[at] = Setting{Name: name, Value: value, Line: ll.firstLine}
			continue
		}
		index[name] = len(settings)
		settings = append(settings, Setting{Name: name, Value: value, Line: ll.firstLine})
	}
	return settings, nil
}
