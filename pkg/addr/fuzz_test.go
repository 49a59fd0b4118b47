// fuzz_test.go fuzzes the SMTP path parser.

package addr

import (
	"strings"
	"testing"
)

// FuzzParsePath checks that no argument makes the parser panic and that a
// parsed path, formatted and parsed again, gives the same address.
func FuzzParsePath(f *testing.F) {
	for _, seed := range []string{
		"<user@example.com>", "<>", "<@a,@b:user@c>", `<"a b"@x>`, `<"a@b"@x>`,
		"user%host@relay", "<user@[IPv6:::1]> SIZE=10", `<"\"@x.example> NOTIFY=NEVER`,
		"<δ@ü.example> SMTPUTF8", "<a@b.example.>",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, arg string) {
		opts := Options{SMTPUTF8Enable: true, SMTPUTF8: true}
		_, _, _ = ParseMail(arg, opts)
		_, _, _ = ParseRcpt(arg, opts)
		first, err := ParsePath(strings.TrimSpace(arg))
		if err != nil {
			return
		}
		text := first.String()
		second, err := ParsePath(text)
		if err != nil {
			t.Fatalf("%q parsed as %+v, formatted %q, which does not parse: %v", arg, first, text, err)
		}
		if second.Address != first.Address || second.Null != first.Null {
			t.Fatalf("%q: round trip %q changed %+v into %+v", arg, text, first.Address, second.Address)
		}
	})
}
