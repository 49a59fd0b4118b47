// parse_test.go checks main.cf logical-line parsing against Postfix's rules.

package config

import (
	"reflect"
	"sort"
	"strings"
	"testing"
)

func TestParseMainCF(t *testing.T) {
	tests := []struct {
		name     string
		input    string
		want     []Setting
		warnings []string
		err      string
	}{
		{
			name:  "hash is data unless it starts the line",
			input: "myhostname = foo.example # x\n#comment\n   # indented comment\n",
			want:  []Setting{{"myhostname", "foo.example # x", 1}},
		},
		{
			name:  "continuation keeps the continuation's leading whitespace",
			input: "mydestination = a,   \n      b\n\tc\n",
			want:  []Setting{{"mydestination", "a,         b\tc", 1}},
		},
		{
			name:  "blank and comment lines do not end a logical line",
			input: "a = 1\n\n  b\nc = 2\n# x\n  d\n",
			want:  []Setting{{"a", "1  b", 1}, {"c", "2  d", 4}},
		},
		{
			name:     "last setting wins",
			input:    "myhostname = one\nrelayhost = r\nmyhostname=two\n",
			want:     []Setting{{"myhostname", "two", 3}, {"relayhost", "r", 2}},
			warnings: []string{"main.cf, line 3: overriding earlier entry: myhostname=one"},
		},
		{
			name:  "whitespace around = and at the end is dropped, CR included",
			input: "a\t=   1  \r\nb= \nc=x=y\n",
			want:  []Setting{{"a", "1", 1}, {"b", "", 2}, {"c", "x=y", 3}},
		},
		{
			name:  "names may hold any character but blanks and =",
			input: "a.b = 1\nc-d = 2\ne:f=3\n",
			want:  []Setting{{"a.b", "1", 1}, {"c-d", "2", 2}, {"e:f", "3", 3}},
		},
		{
			name:     "leading whitespace before any entry is dropped with a warning",
			input:    "  leading = 1\nx = 2",
			want:     []Setting{{"x", "2", 2}},
			warnings: []string{`main.cf: logical line must not start with whitespace: "  leading = 1"`},
		},
		{
			name:  "missing equals sign",
			input: "a = 1\nxyz\n  cont\n",
			err:   `main.cf, line 2: missing '=' after attribute name: "xyz  cont"`,
		},
		{
			name:  "blank inside the name",
			input: "a b = 1\n",
			err:   `main.cf, line 1: missing '=' after attribute name: "a b = 1"`,
		},
		{
			name:  "missing name",
			input: "\n=x\n",
			err:   `main.cf, line 2: missing attribute name: "=x"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var warnings []string
			got, err := ParseMainCF("main.cf", []byte(tt.input), func(w string) { warnings = append(warnings, w) })
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("error = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			sortSettings(got)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("settings = %+v, want %+v", got, tt.want)
			}
			if !reflect.DeepEqual(warnings, tt.warnings) {
				t.Errorf("warnings = %q, want %q", warnings, tt.warnings)
			}
		})
	}
}

func sortSettings(s []Setting) {
	sort.Slice(s, func(i, j int) bool { return s[i].Name < s[j].Name })
}

func TestSplitNameValue(t *testing.T) {
	tests := []struct{ in, name, value, err string }{
		{"relayhost = [x]:25", "relayhost", "[x]:25", ""},
		{"a=", "a", "", ""},
		{"  a  =  b c  ", "a", "b c", ""},
		{"myorigin", "", "", "missing '=' after attribute name"},
		{"=x", "", "", "missing attribute name"},
	}
	for _, tt := range tests {
		name, value, err := SplitNameValue(tt.in)
		if (err != nil) != (tt.err != "") || err != nil && !strings.Contains(err.Error(), tt.err) {
			t.Errorf("SplitNameValue(%q) error = %v, want %q", tt.in, err, tt.err)
			continue
		}
		if name != tt.name || value != tt.value {
			t.Errorf("SplitNameValue(%q) = %q, %q, want %q, %q", tt.in, name, value, tt.name, tt.value)
		}
	}
}
