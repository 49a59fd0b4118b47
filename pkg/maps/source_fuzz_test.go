// Fuzz test of the source-file parser.

package maps

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzScanSource(f *testing.F) {
	for _, seed := range []string{
		"key value\n",
		"a,   \n   b\n# c\n\n  # d\n",
		"\"quoted key\" v\n\"unbalanced v\n",
		"  leading\nk\\ v\nk: v\r\n",
		"\"a\\\"b\" c\n\"\" \"\"\n",
	} {
		f.Add(seed, false)
		f.Add(seed, true)
	}
	f.Fuzz(func(t *testing.T, input string, utf8Only bool) {
		lastLine := 0
		err := ScanSource(strings.NewReader(input), "f", utf8Only, func(e SourceEntry) {
			if e.Key == "" || e.Value == "" {
				t.Fatalf("empty key or value: %+v", e)
			}
			if strings.Trim(e.Value, " \t\r\n\f\v") != e.Value {
				t.Fatalf("value not trimmed: %q", e.Value)
			}
			if e.Line <= lastLine {
				t.Fatalf("line numbers not increasing: %d after %d", e.Line, lastLine)
			}
			lastLine = e.Line
			if utf8Only && !utf8.ValidString(e.Key+e.Value) {
				t.Fatalf("invalid UTF-8 passed in UTF-8 mode: %+v", e)
			}
			key, value, _, ok := SplitKeyValue(e.Key + " " + e.Value)
			if !ok || key != e.Key || value != e.Value {
				t.Fatalf("entry %+v does not round-trip: %q %q %v", e, key, value, ok)
			}
		}, func(w SourceWarning) {
			if w.Text == "" {
				t.Fatal("empty warning")
			}
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}
