package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestTemplates(t *testing.T) {
	stdout, stderr, status, _ := postconfRun(t, "myhostname = mx.test.example\ndelay_warning_time = 3h\n", "-b")
	for _, want := range []string{
		"expanded_failure_text = <<EOF\nThis is the mail system at host mx.test.example.\n",
		"Your message could not be delivered for more than 3 hour(s).\nIt will be retried until it is 5 day(s) old.\n",
		"\n                   The mail system\nEOF\n\nexpanded_delay_text = <<EOF\n",
	} {
		if status != 0 || stderr != "" || !strings.Contains(stdout, want) {
			t.Errorf("-b: status %d, stderr %q, stdout lacks %q:\n%s", status, stderr, want, stdout)
		}
	}
	if !strings.HasSuffix(stdout, "The mail system\nEOF\n") {
		t.Errorf("-b ends %q", stdout[len(stdout)-40:])
	}

	dir := t.TempDir()
	file := filepath.Join(dir, "bounce.cf")
	if err := os.WriteFile(file, []byte("verify_template = <<X\nSubject: Checked\n\nat $myhostname\nX\nfoo_template = y\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, status, _ = postconfRun(t, "myhostname = mx.test.example\n", "-t", file)
	want := "verify_template = <<EOF\nCharset: us-ascii\nFrom: Mail Delivery System <MAILER-DAEMON>\nSubject: Checked\n\nat $myhostname\nEOF\n"
	if status != 0 || !strings.HasSuffix(stdout, want) {
		t.Errorf("-t FILE: status %d, stdout:\n%s", status, stdout)
	}
	if wantErr := "postfix/bounce: warning: " + file + ", line 7: unknown template name: foo_template -- ignoring this template\n"; stderr != wantErr {
		t.Errorf("-t FILE: stderr %q, want %q", stderr, wantErr)
	}

	_, stderr, status, _ = postconfRun(t, "# empty\n", "-b", filepath.Join(dir, "none"))
	if wantErr := "postfix/bounce: fatal: open " + filepath.Join(dir, "none") + ": No such file or directory\n"; status != 1 || stderr != wantErr {
		t.Errorf("-b MISSING: status %d, stderr %q, want %q", status, stderr, wantErr)
	}
}
