// Tests of the command-line option parser.
package cli

import (
	"fmt"
	"testing"
)

func TestGetopt(t *testing.T) {
	tests := []struct {
		args     []string
		opts     string
		operands string
		err      string
	}{
		{[]string{"-beh", "-c", "/etc/x", "ID"}, "[{98 } {101 } {104 } {99 /etc/x}]", "[ID]", ""},
		{[]string{"-c/etc/x", "-q", "A", "B"}, "[{99 /etc/x} {113 }]", "[A B]", ""},
		{[]string{"-d", "ALL", "deferred"}, "[{100 ALL}]", "[deferred]", ""},
		{[]string{"--", "-q"}, "[]", "[-q]", ""},
		{[]string{"-x"}, "", "", "invalid option -- 'x'"},
		{[]string{"-c"}, "", "", "option requires an argument -- 'c'"},
		{[]string{"-", "x"}, "[]", "[- x]", ""},
	}
	for _, tc := range tests {
		opts, rest, err := Getopt(tc.args, "bc:d:ehq")
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("Getopt(%q) error = %v, want %q", tc.args, err, tc.err)
			}
			continue
		}
		if err != nil || fmt.Sprint(opts) != tc.opts || fmt.Sprint(rest) != tc.operands {
			t.Errorf("Getopt(%q) = %v %v %v, want %s %s", tc.args, opts, rest, err, tc.opts, tc.operands)
		}
	}
}
