package mailbox

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestDeliverAsReportsHelperOutcome(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "target"), nil, 0o600)
	os.Symlink(filepath.Join(dir, "target"), filepath.Join(dir, "link"))
	tests := []struct {
		name    string
		exe     string
		req     Request
		wantErr string // "" for success
		wantDSN string
	}{
		{"maildir", os.Args[0], Request{Path: filepath.Join(dir, "md") + "/", Maildir: true}, "", ""},
		{"mbox through symlink", os.Args[0], Request{Path: filepath.Join(dir, "link")},
			"cannot update mailbox " + filepath.Join(dir, "link") + " for user bob@example.test. file is a symbolic link", "5.2.0"},
		{"no helper", filepath.Join(dir, "missing"), Request{Path: filepath.Join(dir, "mbox")},
			"mailbox delivery helper " + filepath.Join(dir, "missing") + ": ", "4.3.0"},
	}
	for _, tt := range tests {
		tt.req.Message = Message{Sender: "s@example.com", Recipient: "bob@example.test"}
		err := DeliverAs(tt.exe, nil, &tt.req, strings.NewReader("Subject: x\n\nbody\n"))
		if tt.wantErr == "" {
			if err != nil {
				t.Errorf("%s: %v", tt.name, err)
			}
			continue
		}
		failure, ok := err.(*Error)
		if !ok || !strings.HasPrefix(failure.Text, tt.wantErr) || failure.DSN != tt.wantDSN {
			t.Errorf("%s: error %#v, want %s %q", tt.name, err, tt.wantDSN, tt.wantErr)
		}
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "md", "new"))
	if len(entries) != 1 {
		t.Fatalf("maildir new/ holds %d files, want 1", len(entries))
	}
	data, _ := os.ReadFile(filepath.Join(dir, "md", "new", entries[0].Name()))
	if want := "Return-Path: <s@example.com>\nX-Original-To: bob@example.test\nDelivered-To: bob@example.test\nSubject: x\n\nbody\n"; string(data) != want {
		t.Errorf("helper wrote %q, want %q", data, want)
	}
}

func TestHelperMainRejectsBadRequest(t *testing.T) {
	var out strings.Builder
	if code := HelperMain(strings.NewReader("not json\n"), &out); code != 1 || out.Len() != 0 {
		t.Errorf("HelperMain on garbage: exit %d, output %q", code, out.String())
	}
}

func TestDeliverAsSwitchesCredentials(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("switching to another uid needs root")
	}
	const uid, gid = 65534, 65534 // nobody, nogroup
	base := t.TempDir()
	os.Chmod(base, 0o755)
	os.Chmod(filepath.Dir(base), 0o755)
	home := filepath.Join(base, "home")
	os.Mkdir(home, 0o700)
	os.Chown(home, uid, gid)
	// The test binary's own directory is root's alone: run a copy.
	exe := filepath.Join(base, "helper")
	self, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(exe, self, 0o755); err != nil {
		t.Fatal(err)
	}
	cred := &syscall.Credential{Uid: uid, Gid: gid, Groups: []uint32{}}
	req := &Request{Path: filepath.Join(home, "Maildir") + "/", Maildir: true, Message: Message{Recipient: "bob@example.test"}}
	if err := DeliverAs(exe, cred, req, strings.NewReader("x\n")); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(filepath.Join(home, "Maildir", "new"))
	if len(entries) != 1 {
		t.Fatalf("new/ holds %d files, want 1", len(entries))
	}
	for _, p := range []string{filepath.Join(home, "Maildir"), filepath.Join(home, "Maildir", "new", entries[0].Name())} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if sys := st.Sys().(*syscall.Stat_t); sys.Uid != uid || sys.Gid != gid {
			t.Errorf("%s owned by %d:%d, want %d:%d", p, sys.Uid, sys.Gid, uid, gid)
		}
	}
	// A mailbox the uid cannot write is refused, not written as root.
	req.Path = filepath.Join(base, "rootonly") + "/"
	if err := DeliverAs(exe, cred, req, strings.NewReader("x\n")); err == nil {
		t.Errorf("delivery into a root-owned directory succeeded as uid %d", uid)
	}
}
