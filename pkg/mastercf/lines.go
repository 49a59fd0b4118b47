// Logical lines of master.cf: comments, blank lines and continuation lines.

package mastercf

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// logicalLine is one entry's text with continuation lines joined.
type logicalLine struct {
	text string // physical lines joined with their newlines dropped
	line int    // number of the first physical line
}

// readLogicalLines splits master.cf the way Postfix does: a line whose first
// non-blank character is "#" is a comment and a blank line is ignored, and
// neither ends an entry; a line that starts with whitespace continues the
// entry above it. A continuation with no entry above it is reported through
// warn and dropped.
func readLogicalLines(r io.Reader, path string, warn func(Warning)) ([]logicalLine, error) {
	scanner := bufio.NewScanner(r)
	scanner.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	var (
		out     []logicalLine
		current *logicalLine
		number  int
	)
	flush := func() {
		if current == nil {
			return
		}
		if startsWithBlank(current.text) {
			warn(Warning{Kind: WarnLeadingWhitespace, Line: current.line,
				Msg: fmt.Sprintf("logical line must not start with whitespace: %s", quoteTruncated(current.text, 30))})
		} else {
			out = append(out, *current)
		}
		current = nil
	}
	for scanner.Scan() {
		number++
		text := scanner.Text()
		trimmed := strings.TrimLeft(text, blanks)
		if trimmed == "" || trimmed[0] == '#' {
			continue
		}
		if current != nil && startsWithBlank(text) {
			current.text += text
			continue
		}
		flush()
		current = &logicalLine{text: text, line: number}
	}
	if err := scanner.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	flush()
	return out, nil
}

// blanks are the characters that separate master.cf fields.
const blanks = " \t\r\n"

func startsWithBlank(s string) bool {
	return s != "" && strings.IndexByte(blanks, s[0]) >= 0
}

// quoteTruncated quotes at most limit bytes of s, adding "..." when it cut.
func quoteTruncated(s string, limit int) string {
	if len(s) > limit {
		return `"` + s[:limit] + `..."`
	}
	return `"` + s + `"`
}
