// Tests for parsing master.cf: lines, columns, arguments and errors.

package mastercf

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func mustParse(t *testing.T, text string) *File {
	t.Helper()
	f, err := Parse(strings.NewReader(text), "/etc/postfix/master.cf")
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, text, want string
		kind             ErrorKind
	}{
		{"missing type", "foo\n", `/etc/postfix/master.cf: line 1: missing "transport type" field`, ErrMissingField},
		{"missing command", "#c\nfoo unix - - - -\n  -\n", `/etc/postfix/master.cf: line 2: missing "command" field`, ErrMissingField},
		{"type without default", "foo - - - - - - x\n", `/etc/postfix/master.cf: line 1: field "transport type" has no default value`, ErrNoDefault},
		{"command without default", "foo unix - - - - - -\n", `/etc/postfix/master.cf: line 1: field "command" has no default value`, ErrNoDefault},
		{"bad type checked before missing fields", "foo bogus\n", `/etc/postfix/master.cf: line 1: bad transport type: bogus`, ErrBadType},
		{"bad private", "foo unix yes - - - - x\n", `/etc/postfix/master.cf: line 1: field "private": bad value: "yes"`, ErrBadValue},
		{"bad unprivileged", "foo unix - Y - - - x\n", `/etc/postfix/master.cf: line 1: field "unprivileged": bad value: "Y"`, ErrBadValue},
		{"bad chroot", "foo unix - - 1 - - x\n", `/etc/postfix/master.cf: line 1: field "chroot": bad value: "1"`, ErrBadValue},
		{"bad wakeup", "foo unix - - - 10?? - x\n", `/etc/postfix/master.cf: line 1: field "wakeup_time": bad value: "10??"`, ErrBadValue},
		{"wakeup of only ?", "foo unix - - - ? - x\n", `/etc/postfix/master.cf: line 1: field "wakeup_time": bad value: "?"`, ErrBadValue},
		{"negative process limit", "foo unix - - - - -1 x\n", `/etc/postfix/master.cf: line 1: field "max_proc": bad value: "-1"`, ErrBadValue},
		{"private inet", "smtp inet y - - - - smtpd\n", `/etc/postfix/master.cf: line 1: inet service cannot be private`, ErrInetPrivate},
		{"unclosed brace", "foo unix - - - - - x {a b\n", `/etc/postfix/master.cf: line 1: missing '}' in "{a b"`, ErrBadArgument},
		{"text after brace", "foo unix - - - - - x {a}b\n", `/etc/postfix/master.cf: line 1: syntax error after '}' in "{a}b"`, ErrBadArgument},
		{"error on later entry", "a unix - - - - - x\n\nb unix - - - - x x\n", `/etc/postfix/master.cf: line 3: field "max_proc": bad value: "x"`, ErrBadValue},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse(strings.NewReader(tt.text), "/etc/postfix/master.cf")
			var perr *Error
			if !errors.As(err, &perr) {
				t.Fatalf("error = %v, want *Error", err)
			}
			if err.Error() != tt.want || perr.Kind != tt.kind {
				t.Errorf("got %q (kind %d), want %q (kind %d)", err, perr.Kind, tt.want, tt.kind)
			}
			if f == nil {
				t.Error("no partial File returned with the error")
			}
		})
	}
}

func TestParseErrorKeepsWhatCameBefore(t *testing.T) {
	f, err := Parse(strings.NewReader("a unix - - - - - x -o {p q}\nb bogus\n"), "master.cf")
	if err == nil || f == nil || len(f.Entries) != 1 || f.Entries[0].Service != "a" || len(f.Warnings) != 1 {
		t.Fatalf("Parse = %+v, %v; want entry a and its warning before the error", f, err)
	}
}

func TestParseLenientAcceptsWhatPostconfAccepts(t *testing.T) {
	text := "smtp inet y - - - - smtpd\nfoo unix - - - - - -\nbar unix - - - - - x {a b\n"
	f, err := ParseLenient(strings.NewReader(text), "master.cf")
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Entries) != 3 {
		t.Fatalf("entries = %d, want 3", len(f.Entries))
	}
	want := []Warning{{Kind: WarnArgument, Line: 3, Msg: `missing '}' in "{a b"`}}
	if len(f.Warnings) != 1 || f.Warnings[0] != want[0] {
		t.Errorf("warnings = %+v, want %+v", f.Warnings, want)
	}
	if got := f.Entries[2].Args; len(got) != 1 || got[0] != "a b" {
		t.Errorf("args = %q, want the brace text recovered", got)
	}
	_, err = ParseLenient(strings.NewReader("foo bogus\n"), "master.cf")
	var perr *Error
	if !errors.As(err, &perr) || perr.Kind != ErrMissingField || perr.Field != "private" {
		t.Errorf("short line: %v, want missing private field first", err)
	}
}

func TestLogicalLines(t *testing.T) {
	text := "# header\n" +
		"   -o orphan=1\n" +
		"relay unix - - y - - smtp\n" +
		"#  -o commented=out\n" +
		"\t-o syslog_name=postfix/$service_name\n" +
		"\n" +
		"  # indented comment\n" +
		"  -o x=1\r\n" +
		"next unix - - - - - next # not a comment\n"
	f := mustParse(t, text)
	if len(f.Entries) != 2 {
		t.Fatalf("entries = %d, want 2", len(f.Entries))
	}
	relay := f.Entries[0]
	if relay.Line != 3 {
		t.Errorf("relay line = %d, want 3", relay.Line)
	}
	wantOpts := []Option{{"syslog_name", "postfix/$service_name"}, {"x", "1"}}
	if !equalOptions(relay.Options, wantOpts) {
		t.Errorf("relay options = %q, want %q", relay.Options, wantOpts)
	}
	if got := f.Entries[1].Args; !equalStrings(got, []string{"#", "not", "a", "comment"}) {
		t.Errorf("a # after the first column is an argument: %q", got)
	}
	wantWarn := Warning{Kind: WarnLeadingWhitespace, Line: 2, Msg: `logical line must not start with whitespace: "   -o orphan=1"`}
	if len(f.Warnings) != 1 || f.Warnings[0] != wantWarn {
		t.Errorf("warnings = %+v, want %+v", f.Warnings, wantWarn)
	}
}

func TestArguments(t *testing.T) {
	tests := []struct {
		args     string
		argv     []string
		options  []Option
		operands []string
	}{
		{"-o a=b -o {c = d e} -v", []string{"-o", "a=b", "-o", "c = d e", "-v"}, []Option{{"a", "b"}, {"c", "d e"}}, nil},
		{"-vo a=b -oc=d -o{e=f} -D", []string{"-vo", "a=b", "-oc=d", "-o{e=f}", "-D"}, []Option{{"a", "b"}, {"c", "d"}, {"e", "f"}}, nil},
		{"-o a=1 operand -o b=2", []string{"-o", "a=1", "operand", "-o", "b=2"}, []Option{{"a", "1"}}, []string{"operand", "-o", "b=2"}},
		{"-o a=1 -- -o b=2", []string{"-o", "a=1", "--", "-o", "b=2"}, []Option{{"a", "1"}}, []string{"-o", "b=2"}},
		{"{ arg with  spaces } x", []string{"arg with  spaces", "x"}, nil, []string{"arg with  spaces", "x"}},
		{"-o {no equals} -o = -o", []string{"-o", "no equals", "-o", "=", "-o"}, nil, nil},
		{"flags=R user=u argv=/bin/x ${user}", []string{"flags=R", "user=u", "argv=/bin/x", "${user}"}, nil,
			[]string{"flags=R", "user=u", "argv=/bin/x", "${user}"}},
	}
	for _, tt := range tests {
		t.Run(tt.args, func(t *testing.T) {
			e := mustParse(t, "svc unix - - - - - cmd "+tt.args+"\n").Entries[0]
			if !equalStrings(e.Args, tt.argv) {
				t.Errorf("Args = %q, want %q", e.Args, tt.argv)
			}
			if !equalOptions(e.Options, tt.options) {
				t.Errorf("Options = %q, want %q", e.Options, tt.options)
			}
			if !equalStrings(e.Operands(), tt.operands) {
				t.Errorf("Operands = %q, want %q", e.Operands(), tt.operands)
			}
		})
	}
}

func TestParseOverride(t *testing.T) {
	tests := []struct {
		in, name, value, err string
	}{
		{"a=b", "a", "b", ""},
		{"smtpd_banner = hello  world ", "smtpd_banner", "hello  world", ""},
		{"{ a = b c }", "a", "b c", ""},
		{"a=", "a", "", ""},
		{"a b", "", "", `missing '=' after attribute name: "a b"`},
		{"=b", "", "", `missing attribute name: "=b"`},
		{"{a=b", "", "", `missing '}' in "{a=b"`},
	}
	for _, tt := range tests {
		opt, err := ParseOverride(tt.in)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("ParseOverride(%q) error = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || opt.Name != tt.name || opt.Value != tt.value {
			t.Errorf("ParseOverride(%q) = %+v, %v; want %q=%q", tt.in, opt, err, tt.name, tt.value)
		}
	}
}

func TestColumnsAndDefaults(t *testing.T) {
	f := mustParse(t, "127.0.0.1:2525 inet n n y 0? 0 smtpd\n"+
		"pickup unix - - - 60? - pickup\n"+
		"qmgr unix n - n 300 1 qmgr\n")
	tests := []struct {
		e                     *Entry
		private, unpriv, chrt bool
		wakeup                int
		conditional           bool
		maxproc               int
		socket, host, port    string
		key                   string
	}{
		{f.Entries[0], false, false, true, 0, false, 0, "", "127.0.0.1", "2525", "127.0.0.1:2525/inet"},
		{f.Entries[1], true, true, false, 60, true, 7, "private/pickup", "", "", "pickup/unix"},
		{f.Entries[2], false, true, false, 300, false, 1, "public/qmgr", "", "", "qmgr/unix"},
	}
	for _, tt := range tests {
		e := tt.e
		sec, cond := e.WakeupTime()
		if e.IsPrivate() != tt.private || e.IsUnprivileged() != tt.unpriv || e.IsChroot() != tt.chrt ||
			sec != tt.wakeup || cond != tt.conditional || e.MaxProc(7) != tt.maxproc ||
			e.SocketPath() != tt.socket || e.Key() != tt.key {
			t.Errorf("%s: private %v unpriv %v chroot %v wakeup %d%v maxproc %d socket %q", e.Key(),
				e.IsPrivate(), e.IsUnprivileged(), e.IsChroot(), sec, cond, e.MaxProc(7), e.SocketPath())
		}
		host, port, err := e.InetEndpoint()
		if e.Type == TypeInet && (err != nil || host != tt.host || port != tt.port) {
			t.Errorf("%s: endpoint %q %q %v", e.Key(), host, port, err)
		}
		if e.Type != TypeInet && err == nil {
			t.Errorf("%s: InetEndpoint on a %s service succeeded", e.Key(), e.Type)
		}
	}
}

func TestSplitHostPort(t *testing.T) {
	tests := []struct{ in, host, port, err string }{
		{"smtp", "", "smtp", ""},
		{"127.0.0.1:smtp", "127.0.0.1", "smtp", ""},
		{"[::1]:2525", "::1", "2525", ""},
		{"mail.example.com:25", "mail.example.com", "25", ""},
		{"[::1", "", "", `missing "]" in "[::1"`},
		{"[::1]25", "", "", `missing ":" after "]" in "[::1]25"`},
		{":25", "", "", `missing host in ":25"`},
		{"host:", "", "", `missing port in "host:"`},
	}
	for _, tt := range tests {
		host, port, err := SplitHostPort(tt.in)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("SplitHostPort(%q) error = %v, want %q", tt.in, err, tt.err)
			}
		} else if err != nil || host != tt.host || port != tt.port {
			t.Errorf("SplitHostPort(%q) = %q, %q, %v", tt.in, host, port, err)
		}
	}
}

func TestRepeatedServiceKeepsLastEntry(t *testing.T) {
	f := mustParse(t, "foo unix - - - - - first\nbar unix - - - - - bar\nfoo unix - - - - 3 second\nfoo inet n - - - - third\n")
	if len(f.Entries) != 4 {
		t.Errorf("Entries = %d, want all 4", len(f.Entries))
	}
	var got []string
	for _, e := range f.Services() {
		got = append(got, e.Key()+"="+e.Command)
	}
	want := []string{"bar/unix=bar", "foo/unix=second", "foo/inet=third"}
	if !equalStrings(got, want) {
		t.Errorf("Services = %q, want %q", got, want)
	}
	if e := f.Lookup("foo", TypeUnix); e == nil || e.Command != "second" {
		t.Errorf("Lookup(foo/unix) = %+v, want the second entry", e)
	}
	if e := f.Lookup("foo", TypePass); e != nil {
		t.Errorf("Lookup(foo/pass) = %+v, want nil", e)
	}
}

func TestParseFileMissing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "master.cf")
	_, err := ParseFile(path)
	if err == nil || err.Error() != "open "+path+": No such file or directory" || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("error = %v", err)
	}
	if !errors.Is(err, syscall.ENOENT) {
		t.Errorf("error %v does not wrap ENOENT", err)
	}
}
