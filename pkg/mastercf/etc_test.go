// Postern's shipped etc/master.cf must parse and list the services Postern ships.

package mastercf

import (
	"path/filepath"
	"testing"
)

func TestShippedMasterCF(t *testing.T) {
	f, err := ParseFile(filepath.Join("..", "..", "etc", "master.cf"))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Warnings) != 0 {
		t.Errorf("warnings: %+v", f.Warnings)
	}
	want := []struct {
		key, command string
		wakeup, max  int
		unprivileged bool
	}{
		{"smtp/inet", "smtpd", 0, 100, true},
		{"pickup/unix", "pickup", 60, 1, true},
		{"cleanup/unix", "cleanup", 0, 0, true},
		{"qmgr/unix", "qmgr", 300, 1, true},
		{"showq/unix", "showq", 0, 100, true},
		{"smtp/unix", "smtp", 0, 100, true},
		{"relay/unix", "smtp", 0, 100, true},
		{"error/unix", "error", 0, 100, true},
		{"retry/unix", "error", 0, 100, true},
		{"discard/unix", "discard", 0, 100, true},
		{"local/unix", "local", 0, 100, false},
		{"virtual/unix", "virtual", 0, 100, false},
		{"anvil/unix", "anvil", 0, 1, true},
		{"verify/unix", "verify", 0, 1, true},
		{"postlog/unix-dgram", "postlogd", 0, 1, true},
	}
	services := f.Services()
	if len(services) != len(want) {
		t.Fatalf("%d services, want %d", len(services), len(want))
	}
	for i, w := range want {
		e := services[i]
		wakeup, _ := e.WakeupTime()
		if e.Key() != w.key || e.Command != w.command || wakeup != w.wakeup ||
			e.MaxProc(100) != w.max || e.IsUnprivileged() != w.unprivileged || e.IsChroot() {
			t.Errorf("entry %d: %s %s wakeup %d maxproc %d unpriv %v chroot %v; want %+v",
				i, e.Key(), e.Command, wakeup, e.MaxProc(100), e.IsUnprivileged(), e.IsChroot(), w)
		}
	}
	relay := f.Lookup("relay", TypeUnix)
	if want := []Option{{"syslog_name", "postfix/$service_name"}}; !equalOptions(relay.Options, want) {
		t.Errorf("relay options = %q, want %q", relay.Options, want)
	}
}
