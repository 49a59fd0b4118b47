// Tests of log rotation and suffix formatting.

package maillog

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestFormatStrftime(t *testing.T) {
	at := time.Date(2026, time.March, 5, 9, 7, 3, 0, time.UTC)
	tests := []struct{ format, want string }{
		{DefaultRotateSuffix, "20260305-090703"},
		{"%y%m%d", "260305"},
		{"%F_%T", "2026-03-05_09:07:03"},
		{"%b%e.%j", "Mar 5.064"},
		{"%a-%s", "Thu-1772701623"},
		{"100%%-%Q-%", "100%-%Q-%"},
	}
	for _, tt := range tests {
		if got := FormatStrftime(tt.format, at); got != tt.want {
			t.Errorf("FormatStrftime(%q) = %q, want %q", tt.format, got, tt.want)
		}
	}
}

func TestRotate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "maillog")
	at := time.Date(2026, time.November, 28, 13, 1, 26, 0, time.Local)
	l, err := New(Options{Program: "smtpd", Hostname: "mx", File: path, FilePrefixes: dir, Now: func() time.Time { return at }, PID: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.Info("before")
	rotated, err := Rotate(path, DefaultRotateSuffix, at)
	if err != nil {
		t.Fatal(err)
	}
	if want := path + ".20261128-130126"; rotated != want {
		t.Errorf("rotated to %s, want %s", rotated, want)
	}
	if err := l.Reopen(); err != nil {
		t.Fatal(err)
	}
	l.Info("after")
	if got := readFile(t, rotated); got != "Nov 28 13:01:26 mx postfix/smtpd[1]: before\n" {
		t.Errorf("rotated file %q", got)
	}
	if got := readFile(t, path); got != "Nov 28 13:01:26 mx postfix/smtpd[1]: after\n" {
		t.Errorf("new file %q", got)
	}
}

func TestRotateRefuses(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "absent")
	tests := []struct{ file, suffix, want string }{
		{"/dev/stdout", DefaultRotateSuffix, "not rotating '/dev/stdout'"},
		{"", DefaultRotateSuffix, "empty 'maillog_file' parameter value - logfile rotation failed"},
		{"/var/log/x", "", "empty 'maillog_file_rotate_suffix' parameter value - logfile rotation failed"},
		{missing, "1", "logfile '" + missing + "' rotation failed: rename " + missing + " " + missing + ".1: no such file or directory"},
	}
	for _, tt := range tests {
		_, err := Rotate(tt.file, tt.suffix, time.Now())
		if err == nil || err.Error() != tt.want {
			t.Errorf("Rotate(%q, %q) error %v, want %q", tt.file, tt.suffix, err, tt.want)
		}
	}
	if _, err := os.Stat(missing + ".1"); err == nil {
		t.Error("Rotate created a file")
	}
}
