// Tests of the RFC 822 tokenizer in both syntaxes.

package rfc822

import (
	"fmt"
	"strings"
	"testing"
)

// show prints tokens as kind:text, escaped atoms with a trailing "\".
func show(toks []Token) string {
	var parts []string
	for _, t := range toks {
		s := fmt.Sprintf("%c:%s", t.Kind, t.Text)
		if t.Escaped {
			s += `\`
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

func TestTokenizePath(t *testing.T) {
	tests := []struct{ in, want string }{
		{"user@example.com", "a:user @:@ a:example .:. a:com"},
		{`"a b"@[192.0.2.1]`, `q:a b @:@ l:[192.0.2.1]`},
		{"a (comment (nested)) @ b", "a:a @:@ a:b"},
		{`a\@b@c`, `a:a@b\ @:@ a:c`},
		{"@r1,@r2:u@d", "@:@ a:r1 ,:, @:@ a:r2 ::: a:u @:@ a:d"},
		{"%!|", "a:%!|"},
		// Other control characters are part of an atom, as in tok822.
		{"\x01a@b\x7f\fc", "a:\x01a @:@ a:b\x7f\fc"},
	}
	for _, tt := range tests {
		toks, err := Tokenize(tt.in, Path)
		if err != nil || show(toks) != tt.want {
			t.Errorf("Tokenize(%q) = %q, %v; want %q", tt.in, show(toks), err, tt.want)
		}
	}
	for _, bad := range []string{"a\r\nb", "a\x00", `"open`, "[open", "(open", "a)", "a]", `a\`, "a\x00b", "a\rb", `"a\`,
		strings.Repeat("(", MaxCommentDepth+1) + strings.Repeat(")", MaxCommentDepth+1)} {
		if toks, err := Tokenize(bad, Path); err != ErrSyntax {
			t.Errorf("Tokenize(%q) = %q, %v; want ErrSyntax", bad, show(toks), err)
		}
	}
}

func TestTokenizeAlias(t *testing.T) {
	tests := []struct{ in, want string }{
		{"root: a, |\"cmd x\"", `a:root ::: a:a ,:, |:| q:cmd x`},
		{"a (kept comment) b", "a:a c:(kept comment) a:b"},
		{"x%y!z", "a:x %:% a:y !:! a:z"},
		{"a\r\n\tb\f\vc", "a:a a:b a:c"},
		{`"open`, "q:open"},
		{"(open", "c:(open"},
		{"[open", "l:[open]"},
		{"a) b]", "a:a ):) a:b ]:]"},
		{`a\`, `a:a\`},
		{`\ b`, `a: b\`},
		{"", ""},
	}
	for _, tt := range tests {
		toks, err := Tokenize(tt.in, Alias)
		if err != nil || show(toks) != tt.want {
			t.Errorf("Tokenize(%q) = %q, %v; want %q", tt.in, show(toks), err, tt.want)
		}
	}
}
