// Tests of the getopt(3)-style command-line parser, in POSIX and GNU modes.

package getopt

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// optstring is the option string the tests parse against.
const optstring = "c:d:fi#"

// parseCase is one command line and what parsing it must give.
type parseCase struct {
	name     string
	args     []string
	opts     []Option
	operands []string
	err      string
}

func TestParse(t *testing.T) {
	runCases(t, Parse, []parseCase{
		{"no arguments", nil, nil, nil, ""},
		{"clustered flags", []string{"-fi", "x"}, []Option{{'f', ""}, {'i', ""}}, []string{"x"}, ""},
		{"separate argument", []string{"-c", "/etc/x", "ID"}, []Option{{'c', "/etc/x"}}, []string{"ID"}, ""},
		{"attached argument", []string{"-c/etc/x"}, []Option{{'c', "/etc/x"}}, []string{}, ""},
		{"argument ends a cluster", []string{"-fcfi", "-d", "-f"}, []Option{{'f', ""}, {'c', "fi"}, {'d', "-f"}}, []string{}, ""},
		{"empty word as argument", []string{"-c", "", "x"}, []Option{{'c', ""}}, []string{"x"}, ""},
		{"repeated option kept in order", []string{"-d1", "-f", "-d2"}, []Option{{'d', "1"}, {'f', ""}, {'d', "2"}}, []string{}, ""},
		{"punctuation letter", []string{"-#"}, []Option{{'#', ""}}, []string{}, ""},
		{"double dash ends options", []string{"-f", "--", "-i"}, []Option{{'f', ""}}, []string{"-i"}, ""},
		{"only the first double dash counts", []string{"--", "--"}, nil, []string{"--"}, ""},
		{"lone dash is an operand", []string{"-", "-f"}, nil, []string{"-", "-f"}, ""},
		{"stops at the first operand", []string{"-f", "a", "-i", "b"}, []Option{{'f', ""}}, []string{"a", "-i", "b"}, ""},
		{"unknown letter", []string{"-x"}, nil, nil, "invalid option -- 'x'"},
		{"unknown letter in a cluster", []string{"-fx"}, []Option{{'f', ""}}, nil, "invalid option -- 'x'"},
		{"colon is never a letter", []string{"-:"}, nil, nil, "invalid option -- ':'"},
		{"missing argument", []string{"-f", "-c"}, []Option{{'f', ""}}, nil, "option requires an argument -- 'c'"},
		{"missing argument at cluster end", []string{"-fd"}, []Option{{'f', ""}}, nil, "option requires an argument -- 'd'"},
		{"error after an operand is not seen", []string{"a", "-x"}, nil, []string{"a", "-x"}, ""},
	})
}

func TestParseGNU(t *testing.T) {
	runCases(t, ParseGNU, []parseCase{
		{"no arguments", nil, nil, nil, ""},
		{"options after operands", []string{"a", "-f", "b", "-cX"}, []Option{{'f', ""}, {'c', "X"}}, []string{"a", "b"}, ""},
		{"argument taken across an operand", []string{"a", "-d", "b", "c"}, []Option{{'d', "b"}}, []string{"a", "c"}, ""},
		{"double dash ends options", []string{"a", "--", "-f", "b"}, nil, []string{"a", "-f", "b"}, ""},
		{"lone dash is an operand", []string{"-", "-i"}, []Option{{'i', ""}}, []string{"-"}, ""},
		{"error after an operand", []string{"a", "-fx"}, []Option{{'f', ""}}, nil, "invalid option -- 'x'"},
		{"missing argument after an operand", []string{"a", "-c"}, nil, nil, "option requires an argument -- 'c'"},
	})
}

func TestErrorFields(t *testing.T) {
	_, _, err := Parse([]string{"-d"}, optstring)
	var bad *Error
	if !errors.As(err, &bad) || bad.Letter != 'd' || !bad.MissingArgument {
		t.Errorf("Parse(-d) error = %#v, want missing argument for 'd'", err)
	}
	_, _, err = Parse([]string{"-z"}, optstring)
	if !errors.As(err, &bad) || bad.Letter != 'z' || bad.MissingArgument {
		t.Errorf("Parse(-z) error = %#v, want invalid option 'z'", err)
	}
}

// runCases parses each case's command line against optstring and checks
// the options, operands and error.
func runCases(t *testing.T, parse func([]string, string) ([]Option, []string, error), cases []parseCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			opts, operands, err := parse(tc.args, optstring)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Errorf("error = %v, want %q", err, tc.err)
				}
			} else if err != nil {
				t.Errorf("unexpected error %v", err)
			}
			if !reflect.DeepEqual(opts, tc.opts) {
				t.Errorf("options = %v, want %v", opts, tc.opts)
			}
			if !reflect.DeepEqual(operands, tc.operands) {
				t.Errorf("operands = %#v, want %#v", operands, tc.operands)
			}
		})
	}
}

// FuzzParse checks that neither mode panics, that every option returned
// is in the option string, that errors come without operands, and that
// the operands are words of the command line in their order.
func FuzzParse(f *testing.F) {
	f.Add("-fi\x00-cDIR\x00a\x00-d\x00x", "c:d:fi")
	f.Add("a\x00--\x00-c", "c:")
	f.Add("-:\x00-", "::")
	f.Fuzz(func(t *testing.T, joined, spec string) {
		args := strings.Split(joined, "\x00")
		for _, parse := range []func([]string, string) ([]Option, []string, error){Parse, ParseGNU} {
			opts, operands, err := parse(args, spec)
			for _, o := range opts {
				if o.Letter == ':' || strings.IndexByte(spec, o.Letter) < 0 {
					t.Fatalf("option %q not in %q", o.Letter, spec)
				}
			}
			if err != nil {
				var bad *Error
				if !errors.As(err, &bad) || operands != nil {
					t.Fatalf("error %v with operands %q", err, operands)
				}
				continue
			}
			if !inOrderWithin(operands, args) {
				t.Fatalf("operands %q are not words of %q in order", operands, args)
			}
		}
	})
}

// inOrderWithin reports whether sub is a subsequence of words.
func inOrderWithin(sub, words []string) bool {
	for _, w := range words {
		if len(sub) > 0 && sub[0] == w {
			sub = sub[1:]
		}
	}
	return len(sub) == 0
}
