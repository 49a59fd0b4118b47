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
