// Fuzz tests of the aliases(5) line and value parsers.

package aliases

import (
	"strings"
	"testing"
)

func FuzzParseLine(f *testing.F) {
	for _, seed := range []string{
		"postmaster: root",
		`"quoted name": a, |"cmd arg", /file, :include:/x`,
		`c"d": e "sp":f (comment) <x@y>`,
		`a\ b: [1.2.3.4] x\,y "unterminated`,
		"A@B: (nested (comment) x",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, line string) {
		name, value, problem := ParseLine(line)
		if problem == "" && !strings.Contains(line, ":") {
			t.Fatalf("ParseLine(%q) accepted a line without a colon", line)
		}
		if problem != "" && (name != "" || value != "") {
			t.Fatalf("ParseLine(%q) returned data with problem %q", line, problem)
		}
		for _, item := range ParseValue(value) {
			if item.Kind == Address && item.Text == "" {
				t.Fatalf("ParseValue(%q) gave an empty address", value)
			}
		}
		if strings.Contains(NormalizeValue(line), "\n") && !strings.Contains(line, "\n") {
			t.Fatalf("NormalizeValue(%q) invented a newline", line)
		}
	})
}
