// print.go formats postconf output lines: words joined by single spaces
// and, with -f, folded before column 80 with a 4-space indent.

package main

import "strings"

// foldLimit is the longest line -f leaves unbroken when the words allow.
const foldLimit = 80

// formatWords joins words with single spaces, as postconf prints every
// value; with fold, a word that would pass column 80 starts a new line
// indented by four spaces.
func formatWords(words []string, fold bool) string {
	var b strings.Builder
	col := 0
	for i, w := range words {
		switch {
		case i == 0:
		case fold && col+1+len(w) > foldLimit:
			b.WriteString("\n    ")
			col = 4
		default:
			b.WriteByte(' ')
			col++
		}
		b.WriteString(w)
		col += len(w)
	}
	b.WriteByte('\n')
	return b.String()
}
