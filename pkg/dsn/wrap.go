// Line wrapping of the long lines of a notice, as Postfix wraps them.

package dsn

import "strings"

// Wrap breaks s at spaces or tabs into lines of at most width bytes where
// a word allows; continuation lines are indented by indent spaces (and
// are shorter by as much). Trailing blanks of each piece are dropped and
// the blanks at a break vanish. Each line ends with "\n".
func Wrap(s string, width, indent int) string {
	var b strings.Builder
	emit := func(piece string, pad int) {
		b.WriteString(strings.Repeat(" ", pad))
		b.WriteString(strings.TrimRight(piece, " \t"))
		b.WriteByte('\n')
	}
	curIndent, curWidth := 0, width
	start := 0 // index of the current line's first byte
	word := 0  // index of the current word's first byte
	for word >= 0 {
		nextSpace := strings.IndexAny(s[word:], " \t")
		if nextSpace < 0 {
			nextSpace = len(s)
		} else {
			nextSpace += word
		}
		if word > start && nextSpace-start > curWidth {
			emit(s[start:word], curIndent)
			for word < len(s) && (s[word] == ' ' || s[word] == '\t') {
				word++
			}
			if start == 0 {
				curIndent += indent
				curWidth -= indent
			}
			start = word
		}
		if nextSpace < len(s) {
			word = nextSpace + 1
		} else {
			word = -1
		}
	}
	emit(s[start:], curIndent)
	return b.String()
}
