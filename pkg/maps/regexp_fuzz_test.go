// regexp_fuzz_test.go fuzzes the regexp table parser, the POSIX pattern translator and lookups.

package maps

import (
	"strings"
	"testing"
)

func FuzzRegexpTable(f *testing.F) {
	f.Add("/^(.*)@example\\.com$/ ${1}@example.net\n", "JOE@EXAMPLE.COM")
	f.Add("if !/a/\n/(b)|(c)/ [$1][$2]\nendif\n", "xc")
	f.Add("/^a\\(b\\)*c$/x $1\n/[[:alpha:]-z]/ r\n", "abbc")
	f.Add("!/(a)/ $1\n/a{2,1}/ r\n| a\\|b |im r\n", "a|b")
	f.Add("/[^]a-]\\w\\W\\s\\S\\b\\B/ r\n/x{,3}y**z+?/ r\n", "\xff\x00 ab")
	f.Fuzz(func(t *testing.T, source, key string) {
		table := &regexpTable{spec: "regexp:fuzz"}
		b := newRegexpBuilder(table, "fuzz")
		if err := b.readSource(strings.NewReader(source)); err != nil {
			t.Fatalf("reading from memory failed: %v", err)
		}
		b.finish()
		value, found, err := table.Lookup(key)
		if err != nil || (!found && value != "") {
			t.Fatalf("Lookup(%q) = %q, %v, %v", key, value, found, err)
		}
		// The same text as one inline item must not panic either.
		if inline, err := openRegexp("{ {"+source+"} }", Options{}); err == nil {
			inline.Lookup(key)
		}
	})
}

// FuzzPOSIXPattern feeds patterns straight to the translator, with every
// flag combination, and checks that each group a match reports can be
// expanded as a $n result.
func FuzzPOSIXPattern(f *testing.F) {
	f.Add(`^(a|ab)(c|bcd)(d*)$`, byte(0), "abcd")
	f.Add(`^\(*a\)\{1,2\}$`, byte(1), "*a*a")
	f.Add(`[[:alpha:]-][^]a-z[.-.][=x=]]\w\S\b`, byte(6), "Ab-\xff é")
	f.Fuzz(func(t *testing.T, pattern string, flags byte, key string) {
		fl := posixFlags{extended: flags&1 == 0, icase: flags&2 == 0, newline: flags&4 != 0}
		re, groups, err := compilePOSIX(pattern, fl)
		if err != nil {
			return
		}
		subject := bytesAsRunes(key)
		m := re.FindStringSubmatchIndex(subject)
		if m == nil {
			return
		}
		if len(m) != 2*(groups+1) {
			t.Fatalf("pattern %q: %d groups counted, regexp has %d", pattern, groups, len(m)/2-1)
		}
		parts := []replacementPart{{text: "<"}}
		for n := 1; n <= groups; n++ {
			parts = append(parts, replacementPart{group: n})
		}
		if got := expandReplacement(parts, subject, m); len(got) > 1+groups*len(key) {
			t.Fatalf("pattern %q key %q: expansion %q too long", pattern, key, got)
		}
	})
}
