// Tests for the daemon command line parser.

package daemon

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseArgs(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want Options
	}{
		{
			name: "master's full command line",
			args: []string{"-c", "/etc/postfix", "-n", "smtp", "-t", "inet", "-u", "-r", "-p", "100", "-w", "60", "-o", "smtpd_tls_security_level=may", "-v"},
			want: Options{ConfigDir: "/etc/postfix", Service: "smtp", Transport: "inet", Unprivileged: true, Chroot: true, MaxProc: 100, Wakeup: 60, Overrides: []string{"smtpd_tls_security_level=may"}, Verbose: 1},
		},
		{
			name: "bundled flags and attached values",
			args: []string{"-urvv", "-p5", "-osyslog_name=postfix/submission", "-Dt", "unix"},
			want: Options{Unprivileged: true, Chroot: true, Verbose: 2, MaxProc: 5, Overrides: []string{"syslog_name=postfix/submission"}, Debug: true, Transport: "unix"},
		},
		{
			name: "override with blanks, as master passes a braced one",
			args: []string{"-o", "smtpd_client_restrictions = permit_mynetworks, reject", "-o", "{ a = b c }"},
			want: Options{Overrides: []string{"smtpd_client_restrictions=permit_mynetworks, reject", "a=b c"}},
		},
		{
			name: "operands after the options",
			args: []string{"-n", "pipe", "flags=R", "user=nobody", "-v"},
			want: Options{Service: "pipe", Operands: []string{"flags=R", "user=nobody", "-v"}},
		},
		{
			name: "double dash ends the options",
			args: []string{"-S", "-L", "unix:/tmp/s", "--", "-x"},
			want: Options{StandAlone: true, Listen: "unix:/tmp/s", Operands: []string{"-x"}},
		},
		{
			name: "a lone dash is an operand",
			args: []string{"-", "-u"},
			want: Options{Operands: []string{"-", "-u"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseArgs(tt.args)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", *got, tt.want)
			}
		})
	}
}

func TestParseArgsErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-x"}, "invalid option: x"},
		{[]string{"-uq"}, "invalid option: q"},
		{[]string{"-n"}, "option requires an argument: n"},
		{[]string{"-o", "foo"}, `invalid "-o foo" option value: missing '=' after attribute name`},
		{[]string{"-o", "= x"}, `invalid "-o = x" option value: missing attribute name`},
		{[]string{"-o", "{ a = b"}, `invalid "-o { a = b" option value: missing '}'`},
		{[]string{"-p", "-1"}, "bad -p option value: -1"},
		{[]string{"-w", "10s"}, "bad -w option value: 10s"},
		{[]string{"-p", "x", "-q"}, "bad -p option value: x"},
		{[]string{"-q", "-p", "x"}, "invalid option: q"},
	}
	for _, tt := range tests {
		_, err := ParseArgs(tt.args)
		if err == nil || err.Error() != tt.want {
			t.Errorf("ParseArgs(%q) error = %v, want %q", tt.args, err, tt.want)
		}
	}
}

func FuzzParseArgs(f *testing.F) {
	f.Add("-c\x00/etc/postfix\x00-n\x00smtp\x00-t\x00inet\x00-o\x00a=b")
	f.Add("-vo\x00{ x = y }\x00operand")
	f.Add("-p\x00")
	f.Fuzz(func(t *testing.T, joined string) {
		opts, err := ParseArgs(strings.Split(joined, "\x00"))
		if err != nil {
			return
		}
		for _, o := range opts.Overrides {
			if !strings.Contains(o, "=") || strings.HasPrefix(o, "=") {
				t.Errorf("override %q is not name=value", o)
			}
		}
		if opts.MaxProc < 0 || opts.Wakeup < 0 {
			t.Errorf("negative limits in %+v", opts)
		}
	})
}
