// Tests of the line formats, tags and the prefix check.

package maillog

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestAppendFileLine(t *testing.T) {
	at := time.Date(2026, time.November, 28, 13, 1, 26, 0, time.Local)
	early := time.Date(2026, time.March, 5, 9, 7, 3, 0, time.Local)
	tests := []struct {
		name  string
		now   time.Time
		host  string
		tag   string
		level Level
		text  string
		want  string
	}{
		{"info", at, "mx.test.example", "postfix/smtpd", LevelInfo, "NOQUEUE: reject: RCPT from unknown[1.2.3.4]: 554 5.7.1 denied",
			"Nov 28 13:01:26 mx postfix/smtpd[7751]: NOQUEUE: reject: RCPT from unknown[1.2.3.4]: 554 5.7.1 denied\n"},
		{"zero-padded day", early, "mx", "postfix/qmgr", LevelInfo, "30085984332: removed",
			"Mar 05 09:07:03 mx postfix/qmgr[7751]: 30085984332: removed\n"},
		{"warning", at, "mx", "postfix/submission/smtpd", LevelWarning, "hostname x does not resolve",
			"Nov 28 13:01:26 mx postfix/submission/smtpd[7751]: warning: hostname x does not resolve\n"},
		{"error", at, "mx", "postfix/local", LevelError, "e", "Nov 28 13:01:26 mx postfix/local[7751]: error: e\n"},
		{"fatal", at, "mx", "postfix/postmap", LevelFatal, "open /x: No such file or directory",
			"Nov 28 13:01:26 mx postfix/postmap[7751]: fatal: open /x: No such file or directory\n"},
		{"panic", at, "mx", "postfix/qmgr", LevelPanic, "p", "Nov 28 13:01:26 mx postfix/qmgr[7751]: panic: p\n"},
		{"control characters", at, "mx", "postfix/smtpd", LevelInfo, "a\nNov 28 forged\r\x00\x7f\tb",
			"Nov 28 13:01:26 mx postfix/smtpd[7751]: a?Nov 28 forged????b\n"},
		{"UTF-8 kept, invalid replaced", at, "mx", "postfix/smtpd", LevelInfo, "to=<jörg@例え.jp> \xff\xfe",
			"Nov 28 13:01:26 mx postfix/smtpd[7751]: to=<jörg@例え.jp> ??\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(AppendFileLine(nil, tt.now, tt.host, tt.tag, 7751, tt.level, tt.text))
			if got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestLongTextIsCut(t *testing.T) {
	at := time.Date(2026, time.November, 28, 13, 1, 26, 0, time.Local)
	prefix := "Nov 28 13:01:26 mx postfix/smtpd[1]: warning: "
	tests := []struct {
		name     string
		text     string
		wantText string
	}{
		{"ASCII", strings.Repeat("x", 5000), strings.Repeat("x", MaxTextLength)},
		{"exactly the limit", strings.Repeat("y", MaxTextLength), strings.Repeat("y", MaxTextLength)},
		// 1999 bytes, then a 3-byte character that crosses the limit.
		{"no half character", strings.Repeat("z", MaxTextLength-1) + "例例", strings.Repeat("z", MaxTextLength-1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(AppendFileLine(nil, at, "mx", "postfix/smtpd", 1, LevelWarning, tt.text))
			if want := prefix + tt.wantText + "\n"; got != want {
				t.Errorf("line of %d bytes, want %d bytes", len(got), len(want))
			}
		})
	}
}

func TestAppendSyslogMessage(t *testing.T) {
	early := time.Date(2026, time.March, 5, 9, 7, 3, 0, time.Local)
	tests := []struct {
		facility int
		level    Level
		want     string
	}{
		{2, LevelInfo, "<22>Mar  5 09:07:03 postfix/smtpd[42]: text"},
		{2, LevelWarning, "<20>Mar  5 09:07:03 postfix/smtpd[42]: warning: text"},
		{2, LevelError, "<19>Mar  5 09:07:03 postfix/smtpd[42]: error: text"},
		{2, LevelFatal, "<18>Mar  5 09:07:03 postfix/smtpd[42]: fatal: text"},
		{23, LevelPanic, "<186>Mar  5 09:07:03 postfix/smtpd[42]: panic: text"},
	}
	for _, tt := range tests {
		got := string(AppendSyslogMessage(nil, early, tt.facility, "postfix/smtpd", 42, tt.level, "text"))
		if got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
}

func TestProgramName(t *testing.T) {
	tests := []struct{ syslogName, argv0, want string }{
		{"postfix", "smtpd", "postfix/smtpd"},
		{"postfix", "/usr/lib/postfix/sbin/smtpd", "postfix/smtpd"},
		{"postfix/submission", "smtpd", "postfix/submission/smtpd"},
		{"postfix/relay", "/usr/libexec/postern/smtp", "postfix/relay/smtp"},
		{"postfix-out", "qmgr", "postfix-out/qmgr"},
		{"postfix", "odd/", "postfix/odd/"},
	}
	for _, tt := range tests {
		if got := ProgramName(tt.syslogName, tt.argv0); got != tt.want {
			t.Errorf("ProgramName(%q, %q) = %q, want %q", tt.syslogName, tt.argv0, got, tt.want)
		}
	}
}

func TestCheckFilePrefixes(t *testing.T) {
	tests := []struct {
		file, prefixes string
		ok             bool
	}{
		{"", DefaultFilePrefixes, true},
		{"/var/log/postfix.log", DefaultFilePrefixes, true},
		{"/dev/stdout", DefaultFilePrefixes, true},
		{"/tmp/x", DefaultFilePrefixes, false},
		{"/varx/y.log", DefaultFilePrefixes, true}, // a plain prefix match, as Postfix
		{"/tmp/x", "/var,/tmp", true},
		{"/tmp/x", "/var\n\t/tmp/", true},
		{"/tmp/x", "", false},
		{"var/log", DefaultFilePrefixes, false},
	}
	for _, tt := range tests {
		err := CheckFilePrefixes(tt.file, tt.prefixes)
		if tt.ok && err != nil {
			t.Errorf("CheckFilePrefixes(%q, %q) = %v, want nil", tt.file, tt.prefixes, err)
		}
		if !tt.ok {
			want := "maillog_file value '" + tt.file + "' does not match any prefix in maillog_file_prefixes"
			if err == nil || err.Error() != want {
				t.Errorf("CheckFilePrefixes(%q, %q) = %v, want %q", tt.file, tt.prefixes, err, want)
			}
		}
	}
}

func TestParseLevelAndFacility(t *testing.T) {
	levels := map[string]Level{
		"info": LevelInfo, "Info": LevelInfo, "warning": LevelWarning, "warn": LevelWarning, "WARNING": LevelWarning,
		"error": LevelError, "err": LevelError, "fatal": LevelFatal, "crit": LevelFatal, "panic": LevelPanic,
	}
	for name, want := range levels {
		if l, err := ParseLevel(name); err != nil || l != want {
			t.Errorf("ParseLevel(%q) = %v, %v; want %v", name, l, err, want)
		}
	}
	for _, name := range []string{"bogus", "notice", "debug", "emerg", "alert", ""} {
		if _, err := ParseLevel(name); err == nil || err.Error() != fmt.Sprintf("bad severity: %q", name) {
			t.Errorf("ParseLevel(%q) error %v", name, err)
		}
	}
	if f, err := ParseFacility("local3"); err != nil || f != 19 {
		t.Errorf("ParseFacility(local3) = %d, %v", f, err)
	}
	if _, err := ParseFacility("bogus"); err == nil || err.Error() != "parameter syslog_facility: unrecognized value: bogus" {
		t.Errorf("ParseFacility(bogus) error %v", err)
	}
}
