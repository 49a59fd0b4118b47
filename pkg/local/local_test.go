// Unit tests of local delivery with fake users (all with this process's uid) and temporary files.

package local

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/postern/postern/pkg/ipc"
)

func TestMboxDeliveryContentAndLog(t *testing.T) {
	f := newFixture(t, nil, nil)
	res := f.deliver(testContent, "Alice@example.test")
	if res[0].Status != ipc.StatusSent || res[0].DSNCode != "2.0.0" || res[0].Reply != "delivered to mailbox" {
		t.Fatalf("result %+v", res[0])
	}
	mbox := f.read(filepath.Join(f.spool, "alice"))
	if !regexp.MustCompile(`^From sender@remote\.example  [A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-9]\d \d\d:\d\d:\d\d \d{4}\n`).MatchString(mbox) {
		t.Errorf("bad From_ line in %q", mbox)
	}
	if got, want := withoutFromLines(t, mbox, "sender@remote.example"), mboxEntry("sender@remote.example", "Alice@example.test", "alice@example.test"); got != want {
		t.Errorf("mbox:\n%s\nwant:\n%s", got, want)
	}
	st, err := os.Stat(filepath.Join(f.spool, "alice"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mailbox mode %v, want 0600", st.Mode().Perm())
	}
	line := regexp.MustCompile(`4A1B2C3D4E: to=<Alice@example\.test>, relay=local, delay=[0-9.]+, delays=[0-9.]+/[0-9.]+/0/[0-9.]+, dsn=2\.0\.0, status=sent \(delivered to mailbox\)`)
	if !line.MatchString(f.log()) {
		t.Errorf("log lacks the delivery line:\n%s", f.log())
	}
	// A second delivery appends.
	f.deliver(testContent, "alice@example.test")
	if n := strings.Count(f.read(filepath.Join(f.spool, "alice")), "\nFrom sender@remote.example  "); n != 1 {
		t.Errorf("second delivery: %d more From_ lines, want 1", n)
	}
}

// A mailbox that cannot be created bounces in local (5.2.0), where
// virtual defers, and says which user's mailbox failed, as Postfix does.
func TestUncreatableMailboxBounces(t *testing.T) {
	f := newFixture(t, nil, map[string]string{"home_mailbox": "Maildir/"})
	if err := os.WriteFile(filepath.Join(f.users["bob"].Home, "Maildir"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	r := f.deliver(testContent, "bob@example.test")[0]
	prefix := "maildir delivery failed: create maildir file " + filepath.Join(f.users["bob"].Home, "Maildir", "tmp") + "/"
	if r.Status != ipc.StatusBounced || r.DSNCode != "5.2.0" || !strings.HasPrefix(r.Reply, prefix) || !strings.HasSuffix(r.Reply, ": Not a directory") {
		t.Errorf("Maildir under a file: %+v", r)
	}

	f = newFixture(t, nil, nil)
	if err := os.Mkdir(filepath.Join(f.spool, "alice"), 0o700); err != nil {
		t.Fatal(err)
	}
	r = f.deliver(testContent, "alice@example.test")[0]
	want := "cannot update mailbox " + filepath.Join(f.spool, "alice") + " for user alice. cannot open file: Is a directory"
	if r.Status != ipc.StatusBounced || r.DSNCode != "5.2.0" || r.Reply != want {
		t.Errorf("mbox is a directory: %+v", r)
	}
}

func TestMaildirDelivery(t *testing.T) {
	f := newFixture(t, nil, map[string]string{"home_mailbox": "Maildir/"})
	res := f.deliver(testContent, "bob@example.test")
	if res[0].Status != ipc.StatusSent || res[0].Reply != "delivered to maildir" {
		t.Fatalf("result %+v", res[0])
	}
	newDir := filepath.Join(f.users["bob"].Home, "Maildir", "new")
	entries, err := os.ReadDir(newDir)
	if err != nil || len(entries) != 1 {
		t.Fatalf("Maildir new/: %v, %v", entries, err)
	}
	want := "Return-Path: <sender@remote.example>\nX-Original-To: bob@example.test\nDelivered-To: bob@example.test\n" + testContent
	if got := f.read(filepath.Join(newDir, entries[0].Name())); got != want {
		t.Errorf("maildir file %q, want %q", got, want)
	}
	if !strings.Contains(f.log(), "to=<bob@example.test>, relay=local,") || !strings.Contains(f.log(), "status=sent (delivered to maildir)") {
		t.Errorf("log:\n%s", f.log())
	}
}

func TestRecipientOutcomes(t *testing.T) {
	tests := []struct {
		name     string
		aliases  []string
		settings map[string]string
		content  string
		rcpt     string
		status   ipc.DeliveryStatus
		dsn      string
		reply    string
		mailbox  []string // users whose spool mailbox must exist
		logs     []string // fragments the log must contain
	}{
		{name: "unknown user", rcpt: "NoSuch@example.test", status: ipc.StatusBounced, dsn: "5.1.1", reply: `unknown user: "nosuch"`,
			logs: []string{`to=<NoSuch@example.test>, relay=local,`, `dsn=5.1.1, status=bounced (unknown user: "nosuch")`}},
		{name: "luser_relay", settings: map[string]string{"luser_relay": "carol"}, rcpt: "nosuch@example.test",
			status: ipc.StatusSent, dsn: "2.0.0", reply: "delivered to mailbox", mailbox: []string{"carol"},
			logs: []string{"to=<carol@example.test>, orig_to=<nosuch@example.test>, relay=local"}},
		{name: "allow_min_user=no", rcpt: "-alice@example.test", status: ipc.StatusBounced, dsn: "5.1.3", reply: "bad address syntax"},
		{name: "allow_min_user=yes", settings: map[string]string{"allow_min_user": "yes"}, rcpt: "-alice@example.test",
			status: ipc.StatusBounced, dsn: "5.1.1", reply: `unknown user: "-alice"`},
		{name: "Delivered-To loop", content: "Delivered-To: alice@example.test\n" + testContent, rcpt: "alice@example.test",
			status: ipc.StatusBounced, dsn: "5.4.6", reply: "mail forwarding loop for alice@example.test"},
		{name: "list of three", aliases: []string{"staff alice, bob, carol"}, rcpt: "staff@example.test",
			status: ipc.StatusSent, dsn: "2.0.0", mailbox: []string{"alice", "bob", "carol"},
			logs: []string{"to=<alice@example.test>, orig_to=<staff@example.test>, relay=local", "to=<carol@example.test>, orig_to=<staff@example.test>"}},
		{name: "self reference", aliases: []string{"alice alice, bob"}, rcpt: "alice@example.test",
			status: ipc.StatusSent, mailbox: []string{"alice", "bob"}},
		{name: "alias loop", aliases: []string{"loopa loopb", "loopb loopa"}, rcpt: "loopa@example.test",
			status: ipc.StatusBounced, dsn: "5.1.1", reply: `unknown user: "loopa"`},
		{name: "user+ext", settings: map[string]string{"recipient_delimiter": "+"}, rcpt: "alice+news@example.test",
			status: ipc.StatusSent, mailbox: []string{"alice"}},
		{name: "alias for user without extension", aliases: []string{"team bob"}, settings: map[string]string{"recipient_delimiter": "+"},
			rcpt: "team+x@example.test", status: ipc.StatusSent, mailbox: []string{"bob"}},
		// An extension with a "/" is dropped with a warning, as by
		// Postfix; the user (or alias) without it gets the mail.
		{name: "user+illegal extension", settings: map[string]string{"recipient_delimiter": "+"}, rcpt: "alice+a/b@example.test",
			status: ipc.StatusSent, mailbox: []string{"alice"}, logs: []string{": address with illegal extension: alice+a/b"}},
		{name: "alias+illegal extension", aliases: []string{"team bob"}, settings: map[string]string{"recipient_delimiter": "+"},
			rcpt: "team+x/y@example.test", status: ipc.StatusSent, mailbox: []string{"bob"},
			logs: []string{": address with illegal extension: team+x/y"}},
		{name: "unknown user+extension", settings: map[string]string{"recipient_delimiter": "+"},
			rcpt: "nosuch+x@example.test", status: ipc.StatusBounced, dsn: "5.1.1", reply: `unknown user: "nosuch"`},
		{name: "command exit 67", aliases: []string{`nouser "|exit 67"`}, rcpt: "nouser@example.test",
			status: ipc.StatusBounced, dsn: "5.1.1", reply: "user unknown"},
		{name: "command exit 75", aliases: []string{`later "|exit 75"`}, rcpt: "later@example.test",
			status: ipc.StatusDeferred, dsn: "4.3.0", reply: "temporary failure"},
		{name: "command other status", aliases: []string{`fails "|echo oops; exit 3"`}, rcpt: "fails@example.test",
			status: ipc.StatusBounced, dsn: "5.3.0", reply: `Command died with status 3: "echo oops; exit 3". Command output: oops`},
		{name: "include with command refused", aliases: []string{"inc :include:$DIR/cmd.list"}, rcpt: "inc@example.test",
			status: ipc.StatusBounced, dsn: "5.7.1", reply: "mail to command is restricted", mailbox: []string{"bob"}},
		{name: "include with command allowed", aliases: []string{"inc :include:$DIR/cmd.list"}, rcpt: "inc@example.test",
			settings: map[string]string{"allow_mail_to_commands": "alias, forward, include"},
			status:   ipc.StatusSent, dsn: "2.0.0", mailbox: []string{"bob"}},
		{name: "file from alias refused", aliases: []string{"arch /$DIR/archive"}, rcpt: "arch@example.test",
			settings: map[string]string{"allow_mail_to_files": "forward"},
			status:   ipc.StatusBounced, dsn: "5.7.1", reply: "mail to file is restricted"},
		{name: "alias to /dev/null", aliases: []string{"devnull /dev/null"}, rcpt: "devnull@example.test",
			status: ipc.StatusSent, dsn: "2.0.0", reply: "delivered to file: /dev/null"},
		{name: "alias to a file that cannot be opened", aliases: []string{"lost $DIR/none/archive"}, rcpt: "lost@example.test",
			status: ipc.StatusBounced, dsn: "5.2.0", reply: "cannot append message to file $DIR/none/archive: cannot open file: No such file or directory"},
		{name: "mailbox_size_limit", settings: map[string]string{"mailbox_size_limit": "50", "message_size_limit": "10"},
			rcpt: "alice@example.test", status: ipc.StatusBounced, dsn: "5.2.2", mailbox: []string{"alice"}},
		{name: "missing include bounces as a configuration error", aliases: []string{"inc :include:$DIR/none.list"}, rcpt: "inc@example.test",
			status: ipc.StatusBounced, dsn: "5.3.5"},
		{name: "relative include bounces", aliases: []string{"inc :include:none.list"}, rcpt: "inc@example.test",
			status: ipc.StatusBounced, dsn: "5.3.5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, tt.aliases, tt.settings)
			f.write(filepath.Join(f.dir, "cmd.list"), "bob\n|true\n")
			content := tt.content
			if content == "" {
				content = testContent
			}
			r := f.deliver(content, tt.rcpt)[0]
			if reply := strings.ReplaceAll(tt.reply, "$DIR", f.dir); r.Status != tt.status || (tt.dsn != "" && r.DSNCode != tt.dsn) || (reply != "" && r.Reply != reply) {
				t.Errorf("got %v %s (%s), want %v %s (%s)", r.Status, r.DSNCode, r.Reply, tt.status, tt.dsn, tt.reply)
			}
			for _, u := range tt.mailbox {
				if _, err := os.Stat(filepath.Join(f.spool, u)); err != nil {
					t.Errorf("mailbox of %s: %v", u, err)
				}
			}
			entries, _ := os.ReadDir(f.spool)
			if len(entries) != len(tt.mailbox) {
				t.Errorf("spool holds %d mailboxes, want %d", len(entries), len(tt.mailbox))
			}
			for _, frag := range tt.logs {
				if !strings.Contains(f.log(), frag) {
					t.Errorf("log lacks %q:\n%s", frag, f.log())
				}
			}
		})
	}
}
