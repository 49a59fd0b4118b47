// Tests for postconf's main.cf display and edit modes, run in-process
// against temporary configuration directories.

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/postern/postern/pkg/maps"
)

// postconfRun runs postconf with args against a directory holding mainCF
// (and an empty master.cf) and returns stdout, stderr with the directory
// written as DIR, the exit status and the directory.
func postconfRun(t *testing.T, mainCF string, args ...string) (stdout, stderr string, status int, dir string) {
	t.Helper()
	dir = t.TempDir()
	if mainCF != "" {
		if err := os.WriteFile(filepath.Join(dir, "main.cf"), []byte(mainCF), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "master.cf"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errw bytes.Buffer
	status = run(append([]string{"-c", dir}, args...), &out, &errw)
	return strings.ReplaceAll(out.String(), dir, "DIR"), strings.ReplaceAll(errw.String(), dir, "DIR"), status, dir
}

func TestShow(t *testing.T) {
	tests := []struct {
		name           string
		mainCF         string
		args           []string
		stdout, stderr string
		status         int
	}{
		{
			name:   "explicit settings with config_directory, unused reported",
			mainCF: "myorigin = $a\nfoo=1\nrelayhost = ${bar}\nbar = x\nmydestination = a,   \n      b\n\tc\n",
			args:   []string{"-n"},
			stdout: "bar = x\nconfig_directory = DIR\nmydestination = a, b c\nmyorigin = $a\nrelayhost = ${bar}\n",
			stderr: "postconf: warning: DIR/main.cf: undefined parameter: a\n" +
				"postconf: warning: DIR/main.cf: unused parameter: foo=1\n",
		},
		{
			name:   "master.cf modes report main.cf's undefined parameters, not unused ones",
			mainCF: "myorigin = $a\nfoo=1\n",
			args:   []string{"-M"},
			stderr: "postconf: warning: DIR/main.cf: undefined parameter: a\n",
		},
		{
			name:   "master.cf -P reports them too",
			mainCF: "myorigin = $a\n",
			args:   []string{"-P"},
			stderr: "postconf: warning: DIR/main.cf: undefined parameter: a\n",
		},
		{
			name:   "named parameters, unknown one warned",
			mainCF: "myorigin = x\n",
			args:   []string{"bogus", "myorigin", "relayhost"},
			stdout: "myorigin = x\nrelayhost =\n",
			stderr: "postconf: warning: bogus: unknown parameter\n",
		},
		{
			name:   "-n with names prints only explicit ones",
			mainCF: "myorigin = x\n",
			args:   []string{"-n", "myorigin", "relayhost"},
			stdout: "myorigin = x\n",
		},
		{
			name:   "expansion, reference example",
			mainCF: "myhostname = mx.example\nmyorigin = ${relayhost:noRelay} ${myhostname?yes} ${relayhost?{set}:{unset}} $$x ${{10} > {9}?{num}:{lex}}\n",
			args:   []string{"-x", "myorigin", "mydomain", "forward_path"},
			stdout: "myorigin = noRelay yes unset $x num\nmydomain = example\n" +
				"forward_path = $home/.forward${recipient_delimiter}${extension}, $home/.forward\n",
		},
		{
			name:   "values only, names only, bundled flags",
			mainCF: "myorigin = a   b\n",
			args:   []string{"-hx", "myorigin"},
			stdout: "a b\n",
		},
		{
			name:   "names only",
			mainCF: "myorigin = a\n",
			args:   []string{"-nH"},
			stdout: "config_directory\nmyorigin\n",
		},
		{
			name:   "defaults ignore main.cf",
			mainCF: "xyz\n",
			args:   []string{"-d", "mail_name", "compatibility_level", "relay_domains"},
			stdout: "mail_name = Postern\ncompatibility_level = 3.6\n" +
				"relay_domains = ${{$compatibility_level} <level {2} ? {$mydestination} : {}}\n",
		},
		{
			name:   "folding at 80 columns",
			mainCF: "relayhost = aaaaaaaaa bbbbbbbbb ccccccccc ddddddddd eeeeeeeee fffffffff ggggggg hi\n",
			args:   []string{"-f", "relayhost", "smtpd_expansion_filter"},
			stdout: "relayhost = aaaaaaaaa bbbbbbbbb ccccccccc ddddddddd eeeeeeeee fffffffff ggggggg\n    hi\n" +
				"smtpd_expansion_filter =\n    \\t\\40!\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\\\]^_`abcdefghijklmnopqrstuvwxyz{|}~\n",
		},
		{
			name:   "-o overrides",
			mainCF: "myorigin = x\n",
			args:   []string{"-o", "relayhost=[gw]", "-n"},
			stdout: "config_directory = DIR\nmyorigin = x\nrelayhost = [gw]\n",
		},
		{
			name:   "used user parameter is shown",
			mainCF: "foo = $bar\nbar = 1\n",
			args:   []string{"bar", "foo"},
			stdout: "bar = 1\n",
			stderr: "postconf: warning: foo: unknown parameter\npostconf: warning: DIR/main.cf: unused parameter: foo=$bar\n",
		},
		{
			name:   "overriding entry",
			mainCF: "myorigin = a\nmyorigin = b\n",
			args:   []string{"myorigin"},
			stdout: "myorigin = b\n",
			stderr: "postconf: warning: DIR/main.cf, line 2: overriding earlier entry: myorigin=a\n",
		},
		{
			name:   "malformed main.cf",
			mainCF: "a = 1\nxyz\n",
			args:   []string{"-n"},
			stderr: "postconf: fatal: DIR/main.cf, line 2: missing '=' after attribute name: \"xyz\"\n",
			status: 1,
		},
		{
			name:   "recursion fails even without -x",
			mainCF: "a = $b\nb = $a\nmyorigin = $a\n",
			args:   []string{"-n"},
			stderr: "postconf: warning: unreasonable macro call nesting: \"b\"\npostconf: fatal: macro processing error\n",
			status: 1,
		},
		{
			name:   "bad override",
			mainCF: "a = 1\n",
			args:   []string{"-o", "relayhost", "-n"},
			stderr: "postconf: fatal: invalid parameter override: relayhost: missing '=' after attribute name\n",
			status: 1,
		},
		{
			name:   "mynetworks is computed up front; warnings show control characters as ?",
			mainCF: "mynetworks_style = ${{10} < {9}}\n\tmore $foo\n",
			args:   []string{"-n"},
			stderr: "postconf: fatal: unknown mynetworks mask style value \"more\" in \"?more \"\n",
			status: 1,
		},
		{
			name:   "client and server SASL types",
			args:   []string{"-a"},
			stdout: "dovecot\n",
		},
		{
			name:   "flag conflicts",
			mainCF: "a = 1\n",
			args:   []string{"-dn"},
			stderr: "postconf: fatal: specify one of -d -n\n",
			status: 1,
		},
		{
			name:   "edit conflicts with display flags",
			mainCF: "a = 1\n",
			args:   []string{"-X", "-n", "a"},
			stderr: "postconf: fatal: specify one of -n -X\n",
			status: 1,
		},
		{
			name:   "-e needs arguments",
			mainCF: "a = 1\n",
			args:   []string{"-e"},
			stderr: "postconf: fatal: -e requires name=value argument\n",
			status: 1,
		},
		{
			name:   "type lists refuse display flags",
			args:   []string{"-m", "-n"},
			stderr: "postconf: fatal: with option -m, do not specify -n\n",
			status: 1,
		},
		{
			name:   "unknown flag",
			args:   []string{"-z"},
			stderr: "postconf: invalid option -- 'z'\npostconf: fatal: " + usage + "\n",
			status: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, status, _ := postconfRun(t, tt.mainCF, tt.args...)
			if stdout != tt.stdout || stderr != tt.stderr || status != tt.status {
				t.Errorf("postconf %q:\nstdout %q\nwant   %q\nstderr %q\nwant   %q\nstatus %d, want %d",
					tt.args, stdout, tt.stdout, stderr, tt.stderr, status, tt.status)
			}
		})
	}
}

func TestMissingMainCF(t *testing.T) {
	_, stderr, status, _ := postconfRun(t, "", "-n")
	if status != 1 || stderr != "postconf: fatal: open DIR/main.cf: No such file or directory\n" {
		t.Errorf("status %d, stderr %q", status, stderr)
	}
}

func TestEdit(t *testing.T) {
	input := "# head\nmyorigin = a\n  b\nrelayhost = x\nlast = 1\n"
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-e", "myorigin = new  val", "mydomain=d"}, "# head\nmyorigin = new  val\nrelayhost = x\nlast = 1\nmydomain = d\n"},
		{[]string{"relayhost=[gw]:25"}, "# head\nmyorigin = a\n  b\nrelayhost = [gw]:25\nlast = 1\n"},
		{[]string{"-X", "myorigin", "nothere"}, "# head\nrelayhost = x\nlast = 1\n"},
		{[]string{"-#", "myorigin"}, "# head\n#myorigin = a\n#  b\nrelayhost = x\nlast = 1\n"},
	}
	for _, tt := range tests {
		stdout, stderr, status, dir := postconfRun(t, input, tt.args...)
		got, _ := os.ReadFile(filepath.Join(dir, "main.cf"))
		if status != 0 || stdout != "" || stderr != "" || string(got) != tt.want {
			t.Errorf("postconf %q: status %d, stdout %q, stderr %q\nmain.cf %q\nwant    %q", tt.args, status, stdout, stderr, got, tt.want)
		}
	}
	_, stderr, status, _ := postconfRun(t, input, "-e", "myorigin")
	if status != 1 || stderr != "postconf: fatal: missing '=' after attribute name: \"myorigin\"\n" {
		t.Errorf("bad -e argument: status %d, stderr %q", status, stderr)
	}
}

func TestMapTypes(t *testing.T) {
	stdout, _, status, _ := postconfRun(t, "", "-m")
	want := ""
	for _, typ := range maps.Types() {
		want += typ + "\n"
	}
	if status != 0 || stdout != want {
		t.Errorf("-m: status %d, stdout %q, want %q", status, stdout, want)
	}
}

func TestOptionParsing(t *testing.T) {
	o, err := parseOptions([]string{"-nxc/dir", "-o", "a=1", "-oб=2", "--", "-n"})
	if err != nil {
		t.Fatal(err)
	}
	if o.configDir != "/dir" || !o.flags['n'] || !o.flags['x'] || len(o.overrides) != 2 || o.overrides[1] != "б=2" || len(o.args) != 1 || o.args[0] != "-n" {
		t.Errorf("parsed %+v", o)
	}
	if _, err := parseOptions([]string{"-c"}); err == nil {
		t.Error("-c without a directory accepted")
	}
}
