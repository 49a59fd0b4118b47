// Fuzz test of the RFC 822 tokenizer.

package rfc822

import (
	"strings"
	"testing"
)

// render writes tokens back as text that tokenizes to the same tokens.
func render(toks []Token) string {
	var b strings.Builder
	for _, t := range toks {
		switch t.Kind {
		case Atom:
			for i := 0; i < len(t.Text); i++ {
				if c := t.Text[i]; c <= ' ' || c == 0x7f || strings.IndexByte(`"()[]\`+Path.Specials, c) >= 0 {
					b.WriteByte('\\')
				}
				b.WriteByte(t.Text[i])
			}
		case Quoted:
			b.WriteString(`"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(t.Text) + `"`)
		case Literal:
			inner := t.Text[1 : len(t.Text)-1]
			b.WriteString("[" + strings.NewReplacer(`\`, `\\`, `]`, `\]`).Replace(inner) + "]")
		default:
			b.WriteString(t.Text)
		}
		b.WriteByte(' ')
	}
	return b.String()
}

// FuzzTokenize checks that the lenient syntax takes any input, and that
// what the strict syntax accepts has no empty atom and tokenizes the same
// again once written back.
func FuzzTokenize(f *testing.F) {
	f.Add(`"a b"@[1.2.3.4] (c (d)) <a\b>`)
	f.Add(`root: |"cmd", :include:/x, \\a`)
	f.Fuzz(func(t *testing.T, s string) {
		if _, err := Tokenize(s, Alias); err != nil {
			t.Fatalf("lenient syntax refused %q: %v", s, err)
		}
		toks, err := Tokenize(s, Path)
		if err != nil {
			return
		}
		for _, tok := range toks {
			if tok.Kind == Atom && tok.Text == "" {
				t.Fatalf("%q: empty atom", s)
			}
		}
		again, err := Tokenize(render(toks), Path)
		for i := range toks {
			toks[i].Escaped = false // writing back escapes more than the input did
		}
		for i := range again {
			again[i].Escaped = false
		}
		if err != nil || show(again) != show(toks) {
			t.Fatalf("%q: %s written back as %q gives %s, %v", s, show(toks), render(toks), show(again), err)
		}
	})
}
