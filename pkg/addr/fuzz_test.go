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

// FuzzParseAddressList checks that no header value makes the parser panic
// and that each mailbox it returns, formatted and parsed again, is the
// same mailbox.
func FuzzParseAddressList(f *testing.F) {
	for _, seed := range []string{
		`"Doe, John" <john@x.example>, jane@y.example (Jane)`,
		"Team: a@x.example,\r\n\tb@y.example;, c@z.example",
		"undisclosed-recipients:;", "<@r.example:a@b.example>", `"a\"b" <"x y"@[IPv6:::1]>`,
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, value string) {
		list, _ := ParseAddressList(value)
		for _, m := range list {
			again, err := ParseAddressList(m.String())
			if err != nil || len(again) != 1 || again[0] != m {
				t.Fatalf("%q: mailbox %+v formatted as %q parses as %+v, %v", value, m, m.String(), again, err)
			}
		}
	})
}
