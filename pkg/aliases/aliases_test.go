// Tests of aliases(5) parsing against what Postfix 3.7's postalias stores.

package aliases

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseLine(t *testing.T) {
	tests := []struct {
		line, name, value, problem string
	}{
		{"postmaster: root", "postmaster", "root", ""},
		{"Root: admin, other@example.com,   |\"/usr/bin/foo bar\", /var/mail/x", "Root", `admin, other@example.com, |"/usr/bin/foo bar", /var/mail/x`, ""},
		{`"quoted name": x`, "quoted name", "x", ""},
		{`"x:y": z`, "x:y", "z", ""},
		{`c"d": e "sp":f`, "c d", `e "sp":f`, ""},
		{"(cm) g: h", "(cm) g", "h", ""},
		{"a b: x", "a b", "x", ""},
		{`\esc: y`, "esc", "y", ""},
		{"sp : z", "sp", "z", ""},
		{"k:v", "k", "v", ""},
		{"w :: z", "w", ":z", ""},
		{"m: , ", "m", ", ", ""},
		{"inc: :include:/etc/inc", "inc", ":include:/etc/inc", ""},
		{"list:    a  ,  b   \tc", "list", "a, b c", ""},
		{"bad line", "", "", "need name:value pair"},
		{":empty: y", "", "", "need name:value pair"},
		{"empty:", "", "", "need name:value pair"},
		{"n:  ", "", "", "need name:value pair"},
		{"A@B: x", "", "", "name must be local"},
	}
	for _, tt := range tests {
		name, value, problem := ParseLine(tt.line)
		if name != tt.name || value != tt.value || problem != tt.problem {
			t.Errorf("ParseLine(%q) = %q, %q, %q; want %q, %q, %q", tt.line, name, value, problem, tt.name, tt.value, tt.problem)
		}
	}
}

func TestNormalizeValue(t *testing.T) {
	tests := []struct{ in, want string }{
		{"User@Example.COM", "User@Example.COM"},
		{"Joe Smith <joe@x>", "Joe Smith <joe@x>"},
		{"joe (comment here) , x", "joe (comment here), x"},
		{`"quoted, comma"@x, y`, `"quoted, comma"@x, y`},
		{"/var/mail/box/", "/var/mail/box/"},
		{`|"exit 67"`, `|"exit 67"`},
		{"x,,y,", "x, , y, "},
		{"a@b , c@d", "a@b, c@d"},
		{"|/bin/cmd    arg", "|/bin/cmd arg"},
		{"a\tb", "a b"},
		{`\root`, "root"},
		{"x   #notcomment", "x #notcomment"},
		{`x"y"`, `x "y"`},
		{`"a" "b"`, `"a" "b"`},
		{"x<y>", "x <y>"},
		{"<y>x", "<y>x"},
		{"(c)x", "(c) x"},
		{"a . b", "a.b"},
		{"a @ b", "a@b"},
		{"[1.2.3.4] x", "[1.2.3.4] x"},
		{`"a"(c)`, `"a" (c)`},
		{`a\ b`, `"a b"`},
		{"a  <b> c", "a <b>c"},
		{"a :b", "a:b"},
		{"a>b", "a>b"},
		{`x%"a"`, `x%"a"`},
		{`x&"a"`, `x& "a"`},
		{`x|"a"`, `x|"a"`},
		{`!"a"`, `!"a"`},
		{`/"a"`, `/ "a"`},
		{`x\,y`, `"x,y"`},
		{`x\"y`, `"x\"y"`},
		{`"a\\b"`, `"a\\b"`},
		{`x\@y`, `"x@y"`},
		{`|a"b"c`, `|a "b" c`},
		{`"|cmd  x" , y`, `"|cmd  x", y`},
		{`"unterminated`, `"unterminated"`},
		{`(unterminated`, `(unterminated`},
		{`[a`, `[a]`},
		{`[a\]b] x`, `[a]b] x`},
		{`(a\)b) x`, `(a\)b) x`},
		{`a(b(c)d)e`, `a (b(c)d) e`},
		{`x\`, `x`},
		{`"a\`, `"a"`},
		{"", ""},
	}
	for _, tt := range tests {
		if got := NormalizeValue(tt.in); got != tt.want {
			t.Errorf("NormalizeValue(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseValue(t *testing.T) {
	tests := []struct {
		value string
		items []Item
	}{
		{"root", []Item{{Address, "root"}}},
		{"admin, other@example.com, |\"/usr/bin/foo bar\", /var/mail/x", []Item{
			{Address, "admin"}, {Address, "other@example.com"}, {Command, "/usr/bin/foo bar"}, {File, "/var/mail/x"},
		}},
		{`"|cmd arg", |exit 67`, []Item{{Command, "cmd arg"}, {Command, "exit 67"}}},
		{":include:/etc/mail/list, /home/u/Maildir/", []Item{{Include, "/etc/mail/list"}, {File, "/home/u/Maildir/"}}},
		{"Joe Smith <joe@x> (work), , x (c)", []Item{{Address, "joe@x"}, {Address, "x"}}},
		{`"a b"@x, \root`, []Item{{Address, "a b@x"}, {Address, "root"}}},
		{"", nil},
		{", ,", nil},
	}
	for _, tt := range tests {
		if got := ParseValue(tt.value); !reflect.DeepEqual(got, tt.items) {
			t.Errorf("ParseValue(%q) = %v, want %v", tt.value, got, tt.items)
		}
	}
}

func TestParse(t *testing.T) {
	input := "postmaster: root\nlist: a,\n   b\n# comment\n  # indented\nbad\ndup: a\ndup: b\nA@B: c\n"
	entries, warnings, err := Parse(strings.NewReader(input), "/etc/aliases", false)
	if err != nil {
		t.Fatal(err)
	}
	wantEntries := []Entry{{"postmaster", "root", 1}, {"list", "a, b", 2}, {"dup", "a", 7}, {"dup", "b", 8}}
	if !reflect.DeepEqual(entries, wantEntries) {
		t.Errorf("entries = %+v, want %+v", entries, wantEntries)
	}
	var texts []string
	for _, w := range warnings {
		texts = append(texts, w.String())
	}
	wantWarnings := []string{"/etc/aliases, line 6: need name:value pair", "/etc/aliases, line 9: name must be local"}
	if !reflect.DeepEqual(texts, wantWarnings) {
		t.Errorf("warnings = %q, want %q", texts, wantWarnings)
	}
}

func TestKindString(t *testing.T) {
	for kind, want := range map[Kind]string{Address: "address", Command: "command", File: "file", Include: "include"} {
		if kind.String() != want {
			t.Errorf("%d.String() = %q, want %q", kind, kind, want)
		}
	}
}
