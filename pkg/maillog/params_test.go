package maillog

import (
	"errors"
	"testing"
)

func TestReadParams(t *testing.T) {
	values := map[string]string{
		"syslog_name": "postfix/submission", "myhostname": "mx.test.example",
		"maillog_file": "/var/log/postern.log", "maillog_file_prefixes": "/var", "syslog_facility": "local0",
	}
	o := Options{Program: "smtpd"}
	if err := o.ReadParams(func(name string) (string, error) { return values[name], nil }); err != nil {
		t.Fatal(err)
	}
	want := Options{Program: "smtpd", SyslogName: "postfix/submission", Hostname: "mx.test.example",
		File: "/var/log/postern.log", FilePrefixes: "/var", SyslogFacility: "local0"}
	if o.Program != want.Program || o.SyslogName != want.SyslogName || o.Hostname != want.Hostname ||
		o.File != want.File || o.FilePrefixes != want.FilePrefixes || o.SyslogFacility != want.SyslogFacility {
		t.Errorf("ReadParams gave %+v, want %+v", o, want)
	}
	broken := errors.New("macro processing error")
	if err := o.ReadParams(func(string) (string, error) { return "", broken }); !errors.Is(err, broken) {
		t.Errorf("ReadParams error = %v, want %v", err, broken)
	}
}
