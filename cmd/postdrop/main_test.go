// Tests of postdrop's arguments and of a submission into a temporary queue.

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/postern/postern/pkg/maildrop"
	"github.com/postern/postern/pkg/queue"
)

func TestParseArgs(t *testing.T) {
	tests := []struct {
		args    []string
		dir     string
		sender  string
		name    string
		extract bool
		verify  bool
		rcpts   string
		wantErr string
	}{
		{args: []string{"-f", "a@b", "--", "x", "-y"}, sender: "a@b", rcpts: "x,-y"},
		{args: []string{"-c", "/etc/alt", "-f", "", "-F", "Full Name", "-t"}, dir: "/etc/alt", name: "Full Name", extract: true},
		{args: []string{"-f", "a", "r1", "r2"}, sender: "a", rcpts: "r1,r2"},
		{args: []string{"-f", "a", "-V", "--", "r1"}, sender: "a", verify: true, rcpts: "r1"},
		{args: []string{"-f"}, wantErr: "option requires an argument -- 'f'"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			dir, sub, err := parseArgs(tt.args)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if dir != tt.dir || sub.Sender != tt.sender || sub.FullName != tt.name || sub.ExtractRecipients != tt.extract || sub.UserVerify != tt.verify ||
				strings.Join(sub.Recipients, ",") != tt.rcpts {
				t.Errorf("got %q %+v", dir, sub)
			}
		})
	}
}

func TestRunWritesMaildrop(t *testing.T) {
	base := t.TempDir()
	spool := filepath.Join(base, "spool")
	layout := queue.NewLayout(spool, nil, 1, false)
	if err := layout.MakeDirs(); err != nil {
		t.Fatal(err)
	}
	mainCF := "queue_directory = " + spool + "\nmaillog_file = " + filepath.Join(base, "maillog") + "\nmaillog_file_prefixes = " + base + "\n"
	if err := os.WriteFile(filepath.Join(base, "main.cf"), []byte(mainCF), 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	if code := run([]string{"-c", base, "-f", "alice", "--", "bob@x.example"}, strings.NewReader("Subject: s\n\nbody\n"), &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	ids, err := layout.IDs(queue.Maildrop)
	if err != nil || len(ids) != 1 {
		t.Fatalf("maildrop %v %v", ids, err)
	}
	m, err := layout.Load(queue.Maildrop, ids[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.Sender != "alice" || len(m.Recipients) != 1 || m.Recipients[0].Address != "bob@x.example" {
		t.Errorf("envelope %q %+v", m.Sender, m.Recipients)
	}
	stderr.Reset()
	if code := run([]string{"-c", base, "-f", "alice", "-t"}, strings.NewReader("Subject: s\n\nbody\n"), &stderr); code != maildrop.ExitNoRecipients ||
		stderr.Len() != 0 {
		t.Errorf("-t without recipients: exit %d: %s", code, stderr.String())
	}
	// message_size_limit stops a runaway submission, and nothing of it
	// stays in maildrop/.
	if err := os.WriteFile(filepath.Join(base, "main.cf"), []byte(mainCF+"message_size_limit = 1000\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	stderr.Reset()
	big := "Subject: big\n\n" + strings.Repeat("0123456789\n", 200)
	if code := run([]string{"-c", base, "--", "bob@x.example"}, strings.NewReader(big), &stderr); code == 0 ||
		!strings.Contains(stderr.String(), "message file too big") {
		t.Errorf("over message_size_limit: exit %d: %s", code, stderr.String())
	}
	if ids, err := layout.IDs(queue.Maildrop); err != nil || len(ids) != 1 {
		t.Errorf("maildrop after a refused submission: %v %v", ids, err)
	}
}
