// Renders a line-by-line diff of two texts for readable test failures.

package harness

import (
	"fmt"
	"strings"
)

// diffContext is how many unchanged lines Diff shows around a change.
const diffContext = 2

// DiffLines is Diff of two lists of lines.
func DiffLines(want, got []string) string {
	return Diff(strings.Join(want, "\n")+"\n", strings.Join(got, "\n")+"\n")
}

// Diff compares want and got line by line and returns "" when they are
// equal, otherwise the lines prefixed by "  " (in both), "- " (only in
// want) or "+ " (only in got); runs of unchanged lines far from any change
// are cut to "  ... N equal lines". A missing final newline is shown as a
// line "\ no newline at end".
func Diff(want, got string) string {
	if want == got {
		return ""
	}
	a, b := splitLines(want), splitLines(got)
	// lcs[i][j] is the length of the longest common subsequence of a[i:] and b[j:].
	lcs := make([][]int, len(a)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var lines []string
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case i < len(a) && j < len(b) && a[i] == b[j]:
			lines = append(lines, "  "+a[i])
			i, j = i+1, j+1
		case i < len(a) && (j == len(b) || lcs[i+1][j] >= lcs[i][j+1]):
			lines = append(lines, "- "+a[i])
			i++
		default:
			lines = append(lines, "+ "+b[j])
			j++
		}
	}
	return elideUnchanged(lines)
}

// elideUnchanged joins diff lines, replacing unchanged lines more than
// diffContext away from a change by a count.
func elideUnchanged(lines []string) string {
	near := make([]bool, len(lines))
	for k, l := range lines {
		if !strings.HasPrefix(l, "  ") {
			for c := max(0, k-diffContext); c <= min(len(lines)-1, k+diffContext); c++ {
				near[c] = true
			}
		}
	}
	var out strings.Builder
	for k := 0; k < len(lines); {
		if near[k] {
			out.WriteString(lines[k] + "\n")
			k++
			continue
		}
		run := k
		for k < len(lines) && !near[k] {
			k++
		}
		fmt.Fprintf(&out, "  ... %d equal lines\n", k-run)
	}
	return out.String()
}

// splitLines splits s into lines, marking a last line without newline.
func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	lines := strings.SplitAfter(s, "\n")
	if last := lines[len(lines)-1]; last == "" {
		lines = lines[:len(lines)-1]
	} else {
		lines = append(lines, `\ no newline at end`)
	}
	for i, l := range lines {
		lines[i] = strings.TrimSuffix(l, "\n")
	}
	return lines
}
