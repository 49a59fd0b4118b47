// Tests of lenient header recipient extraction against what Postfix 3.7's sendmail -t queued.

package addr

import (
	"slices"
	"testing"
)

func TestExtractRecipients(t *testing.T) {
	tests := []struct {
		value string
		want  []string
	}{
		// One bad address keeps the others, and itself with its control character.
		{" good@example.test, \x01a@example.test, other@example.test",
			[]string{"good@example.test", "\x01a@example.test", "other@example.test"}},
		{` "a b"@example.test, (c) <x` + "\x01" + `y@example.test>, Joe <j@example.test>`,
			[]string{"a b@example.test", "x\x01y@example.test", "j@example.test"}},
		{" ,,  @, foo@, @bar", []string{"@", "foo@", "@bar"}},
		{` Joe Bloggs joe@x.example, team: a@x.example, "q"@x.example; z@x.example`,
			[]string{"Joe", "Bloggs", "joe@x.example", "a@x.example", "q@x.example", "z@x.example"}},
		{` <@r.example:y@x.example>, "Jo, B" <jb@x.example>, a.b @ x . example, <unterminated@x.example`,
			[]string{"@r.example:y@x.example", "jb@x.example", "a.b@x.example", "<unterminated@x.example"}},
		{" Bob <bob@x.example>,\n carol@x.example", []string{"bob@x.example", "carol@x.example"}},
		{" ) ] \\", []string{")]"}},
		{" x@y, a\\", []string{"x@y", "a"}},
		{" bad <<>>", []string{">"}},
		{" <a@b> c@d", []string{"a@b", "c@d"}},
		{" a@b <c@d>", []string{"c@d"}},
		{" x <y@z> w", []string{"y@z", "w"}},
		{" x <y@z> w <v@u>", []string{"y@z", "v@u"}},
		{" <a@b>junk@k", []string{"a@b", "junk@k"}},
		{" Joe Q. Public <j@x>", []string{"j@x"}},
		{` "q r" <s@t> (c) u@v`, []string{"s@t", "u@v"}},
		{" a > b", []string{"a", "b"}},
		{"", nil},
	}
	for _, tt := range tests {
		if got := ExtractRecipients(tt.value); !slices.Equal(got, tt.want) {
			t.Errorf("ExtractRecipients(%q) = %q, want %q", tt.value, got, tt.want)
		}
	}
}

func FuzzExtractRecipients(f *testing.F) {
	f.Add("a@b, <c@d>, (x) \"q\" <@r:e@f>;")
	f.Fuzz(func(t *testing.T, value string) {
		for _, a := range ExtractRecipients(value) {
			if a == "" {
				t.Fatalf("empty address from %q", value)
			}
		}
	})
}

func TestParseVrfy(t *testing.T) {
	tests := []struct {
		arg  string
		want string // internal form; "" for a syntax error
	}{
		{"pftest", "pftest"},
		{"<pftest@test.example>", "pftest@test.example"},
		{"\x01a", "\x01a"},
		{"<\x01a@test.example>", "\x01a@test.example"},
		{"<@r.example:pftest@test.example>", "pftest@test.example"},
		{"a b", ""},
		{"a@bad..example", ""},
		{"<>", ""},
	}
	for _, tt := range tests {
		got, ok := ParseVrfy(tt.arg)
		if ok != (tt.want != "") || ok && got.Internal() != tt.want {
			t.Errorf("ParseVrfy(%q) = %q, %v, want %q", tt.arg, got.Internal(), ok, tt.want)
		}
	}
}
