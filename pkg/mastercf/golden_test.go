// Debian's stock master.cf, printed back and compared with real postconf output.

package mastercf

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDebianMasterCF parses Debian's stock master.cf and checks that
// printing it reproduces, byte for byte, what Postfix 3.7's "postconf -M",
// "-Mf", "-F" and "-P" print for it (saved in testdata).
func TestDebianMasterCF(t *testing.T) {
	f, err := ParseFile(filepath.Join("testdata", "debian-master.cf"))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Warnings) != 0 {
		t.Errorf("warnings: %v", f.Warnings)
	}
	render := map[string]func(e *Entry) string{
		"M":  func(e *Entry) string { return e.Format(false) },
		"Mf": func(e *Entry) string { return e.Format(true) },
		"F": func(e *Entry) string {
			var b strings.Builder
			for _, field := range FieldNames() {
				b.WriteString(e.FormatField(field, false))
			}
			return b.String()
		},
		"P": func(e *Entry) string {
			var b strings.Builder
			for _, p := range e.Parameters() {
				b.WriteString(e.FormatParameter(p, false))
			}
			return b.String()
		},
	}
	for suffix, fn := range render {
		t.Run(suffix, func(t *testing.T) {
			want, err := os.ReadFile(filepath.Join("testdata", "debian-master.cf."+suffix+".golden"))
			if err != nil {
				t.Fatal(err)
			}
			var got strings.Builder
			for _, e := range f.Entries {
				got.WriteString(fn(e))
			}
			if got.String() != string(want) {
				t.Errorf("postconf -%s differs:\n--- got\n%s\n--- want\n%s", suffix, got.String(), want)
			}
		})
	}
}

// TestDebianMasterCFServices checks the typed view the master supervisor
// uses on a few of Debian's entries.
func TestDebianMasterCFServices(t *testing.T) {
	f, err := ParseFile(filepath.Join("testdata", "debian-master.cf"))
	if err != nil {
		t.Fatal(err)
	}
	if got := len(f.Services()); got != 31 {
		t.Errorf("services = %d, want 31", got)
	}
	tests := []struct {
		service        string
		typ            Type
		private, unpr  bool
		chroot         bool
		wakeup         int
		conditional    bool
		maxproc        int
		command        string
		options        []Option
		operands       []string
		socketPath     string
		firstLineOfKey int
	}{
		{"smtp", TypeInet, false, true, true, 0, false, 100, "smtpd", nil, nil, "", 12},
		{"pickup", TypeUnix, false, true, true, 60, false, 1, "pickup", nil, nil, "public/pickup", 53},
		{"tlsmgr", TypeUnix, true, true, true, 1000, true, 1, "tlsmgr", nil, nil, "private/tlsmgr", 57},
		{"relay", TypeUnix, true, true, true, 0, false, 100, "smtp",
			[]Option{{"syslog_name", "postfix/$service_name"}}, nil, "private/relay", 67},
		{"postlog", TypeUnixDgram, false, true, false, 0, false, 1, "postlogd", nil, nil, "public/postlog", 79},
		{"maildrop", TypeUnix, true, false, false, 0, false, 100, "pipe", nil,
			[]string{"flags=DRXhu", "user=vmail", "argv=/usr/bin/maildrop", "-d", "${recipient}"}, "private/maildrop", 93},
	}
	for _, tt := range tests {
		e := f.Lookup(tt.service, tt.typ)
		if e == nil {
			t.Errorf("%s/%s: not found", tt.service, tt.typ)
			continue
		}
		sec, cond := e.WakeupTime()
		got := []any{e.IsPrivate(), e.IsUnprivileged(), e.IsChroot(), sec, cond, e.MaxProc(100), e.Command, e.SocketPath(), e.Line}
		want := []any{tt.private, tt.unpr, tt.chroot, tt.wakeup, tt.conditional, tt.maxproc, tt.command, tt.socketPath, tt.firstLineOfKey}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("%s: value %d = %v, want %v", e.Key(), i, got[i], want[i])
			}
		}
		if !equalOptions(e.Options, tt.options) {
			t.Errorf("%s: options %q, want %q", e.Key(), e.Options, tt.options)
		}
		if !equalStrings(e.Operands(), tt.operands) {
			t.Errorf("%s: operands %q, want %q", e.Key(), e.Operands(), tt.operands)
		}
	}
}

func equalOptions(a, b []Option) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
