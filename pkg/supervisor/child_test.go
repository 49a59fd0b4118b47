package supervisor

import (
	"os/exec"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/postern/postern/pkg/mastercf"
	"github.com/postern/postern/pkg/privs"
)

func parseEntry(t *testing.T, line string) *mastercf.Entry {
	t.Helper()
	f, err := mastercf.Parse(strings.NewReader(line+"\n"), "/etc/postfix/master.cf")
	if err != nil {
		t.Fatalf("parse %q: %v", line, err)
	}
	return f.Entries[0]
}

func TestDaemonArgv(t *testing.T) {
	tests := []struct {
		line             string
		eligible, stress bool
		want             []string
	}{
		{
			line:     "smtp inet n - y - - smtpd -o smtpd_sasl_auth_enable=yes",
			eligible: true,
			want:     []string{"smtpd", "-c", "/cf", "-n", "smtp", "-t", "inet", "-u", "-r", "-p", "100", "-o", "stress=", "-o", "smtpd_sasl_auth_enable=yes"},
		},
		{
			line:     "smtp inet n - y - - smtpd",
			eligible: true,
			stress:   true,
			want:     []string{"smtpd", "-c", "/cf", "-n", "smtp", "-t", "inet", "-u", "-r", "-p", "100", "-o", "stress=yes"},
		},
		{
			line: "smtp inet n - y - - smtpd",
			want: []string{"smtpd", "-c", "/cf", "-n", "smtp", "-t", "inet", "-u", "-r", "-p", "100"},
		},
		{
			line: "qmgr unix n - n 300 1 qmgr",
			want: []string{"qmgr", "-c", "/cf", "-n", "qmgr", "-t", "unix", "-u", "-p", "1", "-w", "300"},
		},
		{
			line: "local unix - n n - - local",
			want: []string{"local", "-c", "/cf", "-n", "local", "-t", "unix", "-p", "100"},
		},
		{
			line: "tlsmgr unix - - y 1000? 0 tlsmgr -v",
			want: []string{"tlsmgr", "-c", "/cf", "-n", "tlsmgr", "-t", "unix", "-u", "-r", "-p", "0", "-w", "1000", "-v"},
		},
		{
			line: "relay unix - - y - - smtp -o syslog_name=postfix/$service_name -o { smtp_helo_name = a b }",
			want: []string{"smtp", "-c", "/cf", "-n", "relay", "-t", "unix", "-u", "-r", "-p", "100",
				"-o", "syslog_name=postfix/$service_name", "-o", "smtp_helo_name = a b"},
		},
	}
	for _, tt := range tests {
		got := daemonArgv(parseEntry(t, tt.line), "/cf", 100, tt.eligible, tt.stress)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("daemonArgv(%q)\n got %q\nwant %q", tt.line, got, tt.want)
		}
	}
}

func TestDaemonEnv(t *testing.T) {
	t.Setenv("MAIL_CONFIG", "/elsewhere")
	t.Setenv(notifyFDVariable, "3")
	env := daemonEnv("/cf")
	var mailConfig []string
	for _, kv := range env {
		if strings.HasPrefix(kv, "MAIL_CONFIG=") {
			mailConfig = append(mailConfig, kv)
		}
		if strings.HasPrefix(kv, notifyFDVariable+"=") {
			t.Errorf("environment keeps %s", kv)
		}
	}
	if !reflect.DeepEqual(mailConfig, []string{"MAIL_CONFIG=/cf"}) {
		t.Errorf("MAIL_CONFIG entries = %q, want just /cf", mailConfig)
	}
	if env[len(env)-1] != "POSTERN_MASTER=1" {
		t.Errorf("last entry = %q, want POSTERN_MASTER=1", env[len(env)-1])
	}
}

func TestExitWarning(t *testing.T) {
	tests := []struct {
		script string
		want   string
	}{
		{script: "exit 0", want: ""},
		{script: "exit 1", want: "process /x/smtpd pid PID exit status 1"},
		{script: "kill -9 $$", want: "process /x/smtpd pid PID killed by signal 9"},
	}
	for _, tt := range tests {
		cmd := exec.Command("/bin/sh", "-c", tt.script)
		cmd.Run()
		want := strings.ReplaceAll(tt.want, "PID", strconv.Itoa(cmd.Process.Pid))
		if got := exitWarning("/x/smtpd", cmd.Process.Pid, cmd.ProcessState); got != want {
			t.Errorf("%s: exitWarning = %q, want %q", tt.script, got, want)
		}
	}
}

func TestNoNewPrivsEnv(t *testing.T) {
	base := []string{"MAIL_CONFIG=/cf", "POSTERN_MASTER=1"}
	asks := func(env []string) bool { return slices.Contains(env, privs.EarlyNoNewPrivsEnv+"=1") }
	unpriv := parseEntry(t, "smtp inet n - n - - smtpd")
	if !asks(noNewPrivsEnv(base, unpriv)) {
		t.Errorf("unprivileged daemon: no %s", privs.EarlyNoNewPrivsEnv)
	}
	privileged := parseEntry(t, "local unix - n n - - local")
	if got := asks(noNewPrivsEnv(base, privileged)); got == privs.IsRoot() {
		t.Errorf("daemon with unpriv=n, master root %v: asks for no_new_privs = %v", privs.IsRoot(), got)
	}
}

func TestNiceEnv(t *testing.T) {
	base := []string{"MAIL_CONFIG=/cf", "POSTERN_MASTER=1"}
	for line, want := range map[string]bool{
		"qmgr unix n - n 300 1 qmgr":             true,
		"relay unix - - n - - smtp":              true,
		"lmtp unix - - n - - lmtp":               true,
		"virtual unix - n n - - virtual":         true,
		"smtp inet n - n - - smtpd":              false,
		"cleanup unix n - n - 0 cleanup":         false,
		"local unix - n n - - local":             false,
		"pipe unix - n n - - pipe user=x argv=y": false,
		"postlog unix-dgram n - n - 1 postlogd":  false,
	} {
		got := slices.Contains(niceEnv(base, parseEntry(t, line)), privs.EarlyNiceEnv+"=10")
		if got != want {
			t.Errorf("%q: asks for nice 10 = %v, want %v", line, got, want)
		}
	}
	t.Setenv(privs.EarlyNiceEnv, "10")
	if slices.Contains(daemonEnv("/cf"), privs.EarlyNiceEnv+"=10") {
		t.Errorf("daemonEnv passes master's own %s on", privs.EarlyNiceEnv)
	}
}
