// Tests for postconf -M, -F and -P, checked against the real postconf when installed.

package main

import (
	"bytes"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

type masterCase struct {
	name      string
	masterCF  string
	mode      byte
	fold      bool
	selectors []string
	stdout    string
	warnings  string // postconf's stderr, "unused parameter" lines aside
	fatal     string // the error printed after "postconf: fatal: "
}

var masterCases = []masterCase{
	{
		name:     "columns and defaults",
		masterCF: "smtp      inet  n       -       y       -       -       smtpd\n#comment\npickup unix n - y 60 1 pickup\n",
		mode:     'M',
		stdout: "smtp       inet  n       -       y       -       -       smtpd\n" +
			"pickup     unix  n       -       y       60      1       pickup\n",
	},
	{
		name:     "long service and type names push columns right",
		masterCF: "scalemail-backend unix - n n - 2 pipe\npostlog unix-dgram n - n - 1 postlogd\nabcdefghijk unix - - - 1000? - x\n",
		mode:     'M',
		stdout: "scalemail-backend unix - n       n       -       2       pipe\n" +
			"postlog    unix-dgram n  -       n       -       1       postlogd\n" +
			"abcdefghijk unix -       -       -       1000?   -       x\n",
	},
	{
		name:     "continuation lines, comments and blank lines inside an entry",
		masterCF: "relay unix - - y - - smtp\n#  -o a=b\n  -o syslog_name=postfix/$service_name\n\n  -o x=1\n",
		mode:     'M',
		stdout:   "relay      unix  -       -       y       -       -       smtp -o syslog_name=postfix/$service_name -o x=1\n",
	},
	{
		name:     "options normalised, braces, and options ending at the first operand",
		masterCF: "smtp inet n - y - - smtpd -o { smtpd_banner = hello world } -vo a=b -oc=d {arg with  spaces} -D -o x=y\n",
		mode:     'M',
		stdout:   "smtp       inet  n       -       y       -       -       smtpd -o {smtpd_banner=hello world} -v -o a=b -o c=d arg with  spaces -D -o x=y\n",
	},
	{
		name:     "folding puts each override on its own line",
		masterCF: "smtp inet n - y - - smtpd -o { smtpd_banner = hello world } -v -o a=b {arg with  spaces} -D -o x=y\nt2 unix - - - - - cmd -o -o e=f -- -o g=h\n",
		mode:     'M',
		fold:     true,
		stdout: "smtp       inet  n       -       y       -       -       smtpd\n" +
			"    -o {smtpd_banner=hello world}\n    -v\n    -o a=b\n    arg with  spaces -D -o x=y\n" +
			"t2         unix  -       -       -       -       -       cmd\n    -o -o\n    e=f -- -o g=h\n",
	},
	{
		name:     "folding long arguments at 79 columns",
		masterCF: "a unix - - - - - x aaaaaaaaaaaaaaaaaaaa\nb unix - - - - - x aaaaaaaaaaaaaaaaaaaaa b\n",
		mode:     'M',
		fold:     true,
		stdout: "a          unix  -       -       -       -       -       x aaaaaaaaaaaaaaaaaaaa\n" +
			"b          unix  -       -       -       -       -       x\n    aaaaaaaaaaaaaaaaaaaaa b\n",
	},
	{
		name:      "selectors: entries in file order, once per selector naming them",
		masterCF:  "smtp inet n - y - - smtpd\npickup unix n - y 60 1 pickup\nsmtp unix - - y - - smtp\n",
		mode:      'M',
		selectors: []string{"pickup", "smtp/inet", "smtp/*", "nosuch"},
		stdout: "smtp       inet  n       -       y       -       -       smtpd\n" +
			"smtp       inet  n       -       y       -       -       smtpd\n" +
			"pickup     unix  n       -       y       60      1       pickup\n" +
			"smtp       unix  -       -       y       -       -       smtp\n",
		warnings: "postconf: warning: unmatched request: \"nosuch\"\n",
	},
	{
		name:      "-M selector with a third part",
		masterCF:  "smtp inet n - y - - smtpd\n",
		mode:      'M',
		selectors: []string{"smtp/inet/command"},
		fatal:     "-M option requires service_name[/type]",
	},
	{
		name:      "-F fields, per entry then per selector",
		masterCF:  "smtp inet n - y - - smtpd\npickup unix n - y 60 1 pickup -o a=b\n",
		mode:      'F',
		selectors: []string{"smtp/inet/type", "smtp/*/service", "pickup/unix/command", "smtp/unix"},
		stdout: "smtp/inet/type = inet\nsmtp/inet/service = smtp\n" +
			"pickup/unix/command = pickup -o a=b\n",
		warnings: "postconf: warning: unmatched request: \"smtp/unix\"\n",
	},
	{
		name:     "-F all fields",
		masterCF: "pickup unix n - y 60? 1 pickup\n",
		mode:     'F',
		stdout: "pickup/unix/service = pickup\npickup/unix/type = unix\npickup/unix/private = n\n" +
			"pickup/unix/unprivileged = -\npickup/unix/chroot = y\npickup/unix/wakeup = 60?\n" +
			"pickup/unix/process_limit = 1\npickup/unix/command = pickup\n",
	},
	{
		name:      "-Ff folds the value onto its own line when it does not fit in 80 columns",
		masterCF:  "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn unix - - - - - x -o a=b y\n",
		mode:      'F',
		fold:      true,
		selectors: []string{"*/*/command"},
		stdout:    "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn/unix/command = \n    x\n    -o a=b\n    y\n",
	},
	{
		name:      "-F unknown field",
		masterCF:  "smtp inet n - y - - smtpd\n",
		mode:      'F',
		selectors: []string{"smtp/inet/syslog_name"},
		fatal:     `invalid service attribute name: "syslog_name"`,
	},
	{
		name:     "-P sorted, last value wins, words joined by single spaces",
		masterCF: "foo unix - - - - - x -o c=d -o {b=1  2} -o c=e -o a= -o -o\n",
		mode:     'P',
		stdout:   "foo/unix/a =\nfoo/unix/b = 1 2\nfoo/unix/c = e\n",
	},
	{
		name:     "-Pf folds at 80 columns",
		masterCF: "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn unix - - - - - x -o a=bbbbbbbbbbbbbbbbbbbbbb\nfoo unix - - - - - x -o smtpd_client_restrictions=permit_mynetworks,reject_unauth_destination,reject_unknown_client\n",
		mode:     'P',
		fold:     true,
		stdout: "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn/unix/a = bbbbbbbbbbbbbbbbbbbbbb\n" +
			"foo/unix/smtpd_client_restrictions =\n    permit_mynetworks,reject_unauth_destination,reject_unknown_client\n",
	},
	{
		name:      "-P selector",
		masterCF:  "relay unix - - y - - smtp -o syslog_name=postfix/$service_name -o a=b\n",
		mode:      'P',
		selectors: []string{"relay/unix/syslog_name", "relay/*/nosuch"},
		stdout:    "relay/unix/syslog_name = postfix/$service_name\n",
		warnings:  "postconf: warning: unmatched request: \"relay/*/nosuch\"\n",
	},
	{
		name:     "malformed braces and overrides are warnings",
		masterCF: "foo unix - - - - - x -o {a b} -o {} y {c d\n",
		mode:     'M',
		stdout:   "foo        unix  -       -       -       -       -       x -o {a b} -o  y {c d}\n",
		warnings: "postconf: warning: master.cf: missing '=' after attribute name: \"a b\"\n" +
			"postconf: warning: master.cf: missing attribute name: \"\"\n" +
			"postconf: warning: master.cf: missing '}' in \"{c d\"\n",
	},
	{
		name:     "only the word that ends the options loses its braces for good",
		masterCF: "a unix - - - - - x {a  b} {c  d} {e} {}\nb unix - - - - - x -o a=b -- {a b}\n",
		mode:     'M',
		fold:     true,
		stdout: "a          unix  -       -       -       -       -       x a  b {c  d} e \n" +
			"b          unix  -       -       -       -       -       x\n    -o a=b\n    -- {a b}\n",
	},
	{
		name:     "text indented with no entry above it",
		masterCF: "   -o aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=b\nfoo unix - - - - - x\n",
		mode:     'M',
		stdout:   "foo        unix  -       -       -       -       -       x\n",
		warnings: "postconf: warning: DIR/master.cf: logical line must not start with whitespace: \"   -o aaaaaaaaaaaaaaaaaaaaaaaa...\"\n",
	},
	{
		name:     "too few fields",
		masterCF: "smtp inet n - y - - smtpd\n\nfoo unix\n  - - - -\n",
		mode:     'M',
		fatal:    "file DIR/master.cf: line 3: bad field count",
	},
	{
		name:     "bad type",
		masterCF: "foo\tbogus - - - - - x\n",
		mode:     'M',
		fatal:    `invalid type field "bogus" in "foo?bogus - - - - - x"`,
	},
	{
		name:     "bad y/n field",
		masterCF: "foo unix - Y - - - x\n",
		mode:     'M',
		fatal:    `invalid unprivileged field "Y" in "foo unix - Y - - - x"`,
	},
	{
		name:     "bad wakeup",
		masterCF: "foo unix - - - 10?? - x\n",
		mode:     'M',
		fatal:    `invalid wakeup field "10??" in "foo unix - - - 10?? - x"`,
	},
	{
		name:     "control and non-ASCII bytes print as ?",
		masterCF: "foo unix - - - - - x -o { a\tb }\nbar unix \xc3\xa9 - - - - x\n",
		mode:     'M',
		warnings: "postconf: warning: master.cf: missing '=' after attribute name: \"a?b\"\n",
		fatal:    `invalid private field "??" in "bar unix ?? - - - - x"`,
	},
	{
		name:     "bad process limit",
		masterCF: "foo unix - - - - -1 x\n",
		mode:     'F',
		fatal:    `invalid process_limit field "-1" in "foo unix - - - - -1 x"`,
	},
}

func TestPrintMasterCF(t *testing.T) {
	for _, tc := range masterCases {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeMasterCF(t, tc.masterCF)
			var stdout, stderr bytes.Buffer
			masterWarnings = &stderr
			defer func() { masterWarnings = os.Stderr }()
			err := printMasterCF(&stdout, dir, tc.mode, tc.fold, tc.selectors)
			fatal := strings.ReplaceAll(tc.fatal, "DIR", dir)
			if want := strings.ReplaceAll(tc.warnings, "DIR", dir); stderr.String() != want {
				t.Errorf("warnings:\n%s\nwant:\n%s", stderr.String(), want)
			}
			if fatal != "" {
				if err == nil || err.Error() != fatal {
					t.Fatalf("error = %v, want %q", err, fatal)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if stdout.String() != tc.stdout {
				t.Errorf("stdout:\n%s\nwant:\n%s", stdout.String(), tc.stdout)
			}
		})
	}
}

// TestMasterCasesAgainstRealPostconf runs each case through the installed
// Postfix postconf, so that the expectations above are Postfix's own.
func TestMasterCasesAgainstRealPostconf(t *testing.T) {
	postconf, err := exec.LookPath("/usr/sbin/postconf")
	if err != nil {
		t.Skip("real postconf not installed")
	}
	for _, tc := range masterCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // postconf spends its time waiting, not computing
			dir := writeMasterCF(t, tc.masterCF)
			if err := os.WriteFile(filepath.Join(dir, "main.cf"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
			flag := "-" + string(tc.mode)
			if tc.fold {
				flag += "f"
			}
			cmd := exec.Command(postconf, append([]string{"-c", dir, flag}, tc.selectors...)...)
			cmd.Args[0] = "postconf" // postconf names itself by argv[0] in messages
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			runErr := cmd.Run()
			warnings := withoutUnusedParameterWarnings(stderr.String())
			if tc.fatal != "" {
				want := strings.ReplaceAll(tc.warnings, "DIR", dir) +
					"postconf: fatal: " + strings.ReplaceAll(tc.fatal, "DIR", dir) + "\n"
				if runErr == nil || warnings != want {
					t.Errorf("real postconf: %v, stderr %q, want %q", runErr, warnings, want)
				}
				return
			}
			if runErr != nil {
				t.Fatalf("real postconf: %v: %s", runErr, stderr.String())
			}
			if stdout.String() != tc.stdout {
				t.Errorf("real postconf stdout:\n%s\nexpected:\n%s", stdout.String(), tc.stdout)
			}
			if want := strings.ReplaceAll(tc.warnings, "DIR", dir); warnings != want {
				t.Errorf("real postconf warnings:\n%s\nexpected:\n%s", warnings, want)
			}
		})
	}
}

func TestPrintMasterCFMissingFile(t *testing.T) {
	dir := t.TempDir()
	err := printMasterCF(&bytes.Buffer{}, dir, 'M', false, nil)
	want := "open " + dir + "/master.cf: No such file or directory"
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v, want %q", err, want)
	}
}

func writeMasterCF(t *testing.T, content string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "master.cf"), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestRandomMasterCFAgainstRealPostconf prints generated master.cf files with
// every mode and compares the output with the installed postconf's. The
// words include braces, bundled flags, "--" and malformed overrides; a lone
// "-" and "--o" are left out, because postconf 3.7 itself prints memory
// garbage for some of those.
func TestRandomMasterCFAgainstRealPostconf(t *testing.T) {
	postconf, err := exec.LookPath("/usr/sbin/postconf")
	if err != nil {
		t.Skip("real postconf not installed")
	}
	words := []string{"-o", "-o", "-o", "-v", "-D", "--", "-vo", "-Dv", "-ox", "-oa=1", "-o{b=2}", "-o{a b}",
		"a=b", "x=y", "c=", "$name", "zz", "long_word_aaaaaaaaaaaaaaaaaaaa", "{x y}", "{ a = b c }", "{}",
		"{ p  q }", "{c=d e}", "{ a\tb }", "{a b", "{a}b", "w{x y}z"}
	services := []string{"smtp", "a", "127.0.0.1:25", "abcdefghijklmno", strings.Repeat("n", 52)}
	types := []string{"inet", "unix", "unix-dgram", "fifo", "pass"}
	bools := []string{"-", "y", "n"}
	wakeups := []string{"-", "0", "60", "1000?", "0?", "123456789"}
	limits := []string{"-", "0", "1", "100", "12345678901"}
	for seed := int64(0); seed < 3; seed++ {
		r := rand.New(rand.NewSource(seed))
		pick := func(list []string) string { return list[r.Intn(len(list))] }
		var b strings.Builder
		for i := 0; i < 40; i++ {
			fmt.Fprintf(&b, "%s %s %s %s %s %s %s cmd%d", pick(services), pick(types),
				pick(bools), pick(bools), pick(bools), pick(wakeups), pick(limits), i)
			for n := r.Intn(12); n > 0; n-- {
				if r.Intn(5) == 0 {
					b.WriteString("\n   ")
				}
				b.WriteString(" " + pick(words))
			}
			b.WriteString("\n")
		}
		dir := writeMasterCF(t, b.String())
		if err := os.WriteFile(filepath.Join(dir, "main.cf"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, flag := range []string{"-M", "-Mf", "-F", "-Ff", "-P", "-Pf"} {
			cmd := exec.Command(postconf, "-c", dir, flag)
			cmd.Args[0] = "postconf"
			var wantOut, wantErr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &wantOut, &wantErr
			if err := cmd.Run(); err != nil {
				t.Fatalf("seed %d: real postconf %s: %v: %s", seed, flag, err, wantErr.String())
			}
			var gotOut, gotErr bytes.Buffer
			masterWarnings = &gotErr
			err := printMasterCF(&gotOut, dir, flag[1], strings.HasSuffix(flag, "f"), nil)
			masterWarnings = os.Stderr
			if err != nil {
				t.Fatalf("seed %d %s: %v", seed, flag, err)
			}
			if gotOut.String() != wantOut.String() {
				t.Errorf("seed %d %s: stdout differs from postconf's\ninput:\n%s\ngot:\n%s\nwant:\n%s",
					seed, flag, b.String(), gotOut.String(), wantOut.String())
			}
			if want := withoutUnusedParameterWarnings(wantErr.String()); gotErr.String() != want {
				t.Errorf("seed %d %s: warnings differ\ngot:\n%s\nwant:\n%s", seed, flag, gotErr.String(), want)
			}
		}
	}
}

// withoutUnusedParameterWarnings drops postconf's "unused parameter"
// warnings, which need the main.cf parameter table this code does not use.
func withoutUnusedParameterWarnings(stderr string) string {
	var kept strings.Builder
	for _, line := range strings.SplitAfter(stderr, "\n") {
		if !strings.Contains(line, "unused parameter") {
			kept.WriteString(line)
		}
	}
	return kept.String()
}
