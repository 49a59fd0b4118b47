// Unit tests of forwarding, commands, files, :include: and .forward files.

package local

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/postern/postern/pkg/ipc"
)

func TestForwardToRemoteAddresses(t *testing.T) {
	f := newFixture(t, []string{"ext alice, someone@remote.example, other@elsewhere.example"}, nil)
	r := f.deliver(testContent, "ext@example.test")[0]
	if r.Status != ipc.StatusSent {
		t.Fatalf("result %+v", r)
	}
	if len(f.submitted) != 1 {
		t.Fatalf("%d submissions, want 1", len(f.submitted))
	}
	sub := f.submitted[0]
	if sub.sender != "sender@remote.example" || strings.Join(sub.recipients, " ") != "someone@remote.example other@elsewhere.example" {
		t.Errorf("submission from %q to %q", sub.sender, sub.recipients)
	}
	if want := "Delivered-To: ext@example.test\n" + testContent; sub.content != want {
		t.Errorf("forwarded content %q, want %q", sub.content, want)
	}
	for _, frag := range []string{
		"to=<someone@remote.example>, orig_to=<ext@example.test>, relay=local,",
		"dsn=2.0.0, status=sent (forwarded as F0RWARD1)",
		"to=<alice@example.test>, orig_to=<ext@example.test>, relay=local,",
	} {
		if !strings.Contains(f.log(), frag) {
			t.Errorf("log lacks %q:\n%s", frag, f.log())
		}
	}
}

func TestOwnerAliasBecomesSender(t *testing.T) {
	f := newFixture(t, []string{"club x@remote.example", "owner-club alice"}, nil)
	f.deliver(testContent, "club@example.test")
	if len(f.submitted) != 1 || f.submitted[0].sender != "owner-club@example.test" {
		t.Errorf("submissions %+v, want sender owner-club@example.test", f.submitted)
	}
}

func TestCommandGetsMessageAndEnvironment(t *testing.T) {
	f := newFixture(t, []string{`pipe "|cat > $DIR/out; echo $RECIPIENT $SENDER >> $DIR/out"`}, nil)
	r := f.deliver(testContent, "pipe@example.test")[0]
	cmd := "cat > " + f.dir + "/out; echo $RECIPIENT $SENDER >> " + f.dir + "/out"
	if r.Status != ipc.StatusSent || r.Reply != "delivered to command: "+cmd {
		t.Fatalf("result %+v", r)
	}
	first, got, _ := strings.Cut(f.read(filepath.Join(f.dir, "out")), "\n")
	if !strings.HasPrefix(first, "From sender@remote.example  ") {
		t.Errorf("first line %q, want a From_ line", first)
	}
	// Commands get the body unquoted.
	want := "Return-Path: <sender@remote.example>\nX-Original-To: pipe@example.test\nDelivered-To: pipe@example.test\n" +
		testContent + "pipe@example.test sender@remote.example\n"
	if got != want {
		t.Errorf("command input %q, want %q", got, want)
	}
	if !strings.Contains(f.log(), "4A1B2C3D4E: to=<pipe@example.test>, relay=local, ") {
		t.Errorf("log:\n%s", f.log())
	}
}

func TestFileDelivery(t *testing.T) {
	f := newFixture(t, []string{"arch /$DIR/archive, /$DIR/box/"}, nil)
	r := f.deliver(testContent, "arch@example.test")[0]
	if r.Status != ipc.StatusSent {
		t.Fatalf("result %+v", r)
	}
	got := withoutFromLines(t, f.read(filepath.Join(f.dir, "archive")), "sender@remote.example")
	if want := mboxEntry("sender@remote.example", "arch@example.test", "arch@example.test"); got != want {
		t.Errorf("file %q, want %q", got, want)
	}
	entries, err := os.ReadDir(filepath.Join(f.dir, "box", "new"))
	if err != nil || len(entries) != 1 {
		t.Errorf("maildir file delivery: %v %v", entries, err)
	}
	if !strings.Contains(f.log(), "status=sent (delivered to file: /"+f.dir+"/archive)") {
		t.Errorf("log:\n%s", f.log())
	}
}

func TestIncludeList(t *testing.T) {
	f := newFixture(t, []string{"list :include:$DIR/members"}, nil)
	f.write(filepath.Join(f.dir, "members"), "# the members\nalice\nbob, carol\n")
	if r := f.deliver(testContent, "list@example.test")[0]; r.Status != ipc.StatusSent {
		t.Fatalf("result %+v", r)
	}
	for _, u := range []string{"alice", "bob", "carol"} {
		if _, err := os.Stat(filepath.Join(f.spool, u)); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}
}

func TestDotForward(t *testing.T) {
	tests := []struct {
		name     string
		rcpt     string
		file     string // relative to the home of the recipient's user
		forward  string
		settings map[string]string
		mailbox  []string
		command  bool
	}{
		{name: "to another user", rcpt: "bob@example.test", file: ".forward", forward: "carol\n", mailbox: []string{"carol"}},
		{name: "keep a copy", rcpt: "bob@example.test", file: ".forward", forward: "\\bob, carol\n", mailbox: []string{"bob", "carol"}},
		{name: "empty means none", rcpt: "bob@example.test", file: ".forward", forward: "\n# nothing\n", mailbox: []string{"bob"}},
		{name: "to a command", rcpt: "bob@example.test", file: ".forward", forward: `"|cat > $HOME/piped"` + "\n", command: true},
		{name: "extension file", rcpt: "bob+news@example.test", file: ".forward+news", forward: "alice\n",
			settings: map[string]string{"recipient_delimiter": "+"}, mailbox: []string{"alice"}},
		{name: "extension without its file", rcpt: "bob+news@example.test", file: ".forward", forward: "dave\n",
			settings: map[string]string{"recipient_delimiter": "+"}, mailbox: []string{"dave"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, nil, tt.settings)
			f.write(filepath.Join(f.users["bob"].Home, tt.file), tt.forward)
			if r := f.deliver(testContent, tt.rcpt)[0]; r.Status != ipc.StatusSent {
				t.Fatalf("result %+v", r)
			}
			entries, _ := os.ReadDir(f.spool)
			var got []string
			for _, e := range entries {
				got = append(got, e.Name())
			}
			if strings.Join(got, " ") != strings.Join(tt.mailbox, " ") {
				t.Errorf("mailboxes %v, want %v", got, tt.mailbox)
			}
			if tt.command {
				if _, err := os.Stat(filepath.Join(f.users["bob"].Home, "piped")); err != nil {
					t.Errorf("command output: %v", err)
				}
			}
		})
	}
}

// TestForwardFileSymlinkIgnored: a .forward that is a symbolic link is
// not followed; as in Postfix the user gets the mail in the mailbox and a
// warning is logged.
func TestForwardFileSymlinkIgnored(t *testing.T) {
	f := newFixture(t, nil, nil)
	target := filepath.Join(f.dir, "elsewhere")
	f.write(target, "carol\n")
	forward := filepath.Join(f.users["bob"].Home, ".forward")
	if err := os.Symlink(target, forward); err != nil {
		t.Fatal(err)
	}
	if r := f.deliver(testContent, "bob@example.test")[0]; r.Status != ipc.StatusSent || r.Reply != "delivered to mailbox" {
		t.Errorf("result %+v, want delivered to mailbox", r)
	}
	if want := "warning: file " + forward + " is not a regular file"; !strings.Contains(f.log(), want) {
		t.Errorf("log lacks %q:\n%s", want, f.log())
	}
}

func TestSymlinkedMailboxRefused(t *testing.T) {
	f := newFixture(t, nil, nil)
	target := filepath.Join(f.dir, "target")
	f.write(target, "precious\n")
	if err := os.Symlink(target, filepath.Join(f.spool, "alice")); err != nil {
		t.Fatal(err)
	}
	if r := f.deliver(testContent, "alice@example.test")[0]; r.Status == ipc.StatusSent {
		t.Errorf("delivery through a symlink: %+v", r)
	}
	if got := f.read(target); got != "precious\n" {
		t.Errorf("symlink target changed to %q", got)
	}
}

func TestOtherUserNeedsRoot(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("as root every user can be delivered to")
	}
	f := newFixture(t, nil, nil)
	f.users["alice"].UID++
	r := f.deliver(testContent, "alice@example.test")[0]
	if r.Status != ipc.StatusDeferred || !strings.Contains(r.Reply, "not running as root") {
		t.Errorf("result %+v", r)
	}
}

func TestVerifyWritesNothing(t *testing.T) {
	f := newFixture(t, []string{"ext x@remote.example"}, nil)
	f.agent.Privileged = false
	req := &ipc.DeliveryRequest{Queue: "active", QueueID: "4A1B2C3D4E", Flags: ipc.DeliveryFlagVerify,
		Recipients: []ipc.Recipient{{Address: "alice@example.test"}, {Address: "ext@example.test"}, {Address: "nosuch@example.test"}}}
	res := f.agent.DeliverContent(t.Context(), req, func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(testContent)), nil })
	if res.Recipients[0].Status != ipc.StatusSent || res.Recipients[1].Status != ipc.StatusSent || res.Recipients[2].Status != ipc.StatusBounced {
		t.Errorf("results %+v", res.Recipients)
	}
	if entries, _ := os.ReadDir(f.spool); len(entries) != 0 || len(f.submitted) != 0 {
		t.Errorf("verification wrote %d mailboxes and %d submissions", len(entries), len(f.submitted))
	}
	for _, frag := range []string{"status=deliverable (delivers to mailbox)", "status=undeliverable (unknown user"} {
		if !strings.Contains(f.log(), frag) {
			t.Errorf("log lacks %q:\n%s", frag, f.log())
		}
	}
}

func TestDuplicatesDeliveredOnce(t *testing.T) {
	f := newFixture(t, []string{"staff alice, bob, alice, x@remote.example", "team x@remote.example, |true, |true"}, nil)
	res := f.deliver(testContent, "alice@example.test", "staff@example.test", "team@example.test")
	for i, r := range res {
		if r.Status != ipc.StatusSent {
			t.Errorf("result %d: %+v", i, r)
		}
	}
	if n := strings.Count(f.read(filepath.Join(f.spool, "alice")), "Return-Path:"); n != 1 {
		t.Errorf("alice got %d copies, want 1", n)
	}
	if len(f.submitted) != 1 {
		t.Errorf("%d forwarded copies, want 1", len(f.submitted))
	}
	if n := strings.Count(f.log(), "delivered to command: true"); n != 1 {
		t.Errorf("command ran %d times, want 1", n)
	}
}

func TestMailboxCommand(t *testing.T) {
	f := newFixture(t, nil, map[string]string{"mailbox_command": `cat > "$HOME/procmail-$USER-${EXTENSION}"`, "recipient_delimiter": "+"})
	r := f.deliver(testContent, "carol+lists@example.test")[0]
	want := `delivered to command: cat > "$HOME/procmail-$USER-${EXTENSION}"`
	if r.Status != ipc.StatusSent || r.Reply != want {
		t.Fatalf("result %+v, want reply %q", r, want)
	}
	got := f.read(filepath.Join(f.users["carol"].Home, "procmail-carol-lists"))
	if !strings.Contains(got, "Delivered-To: carol+lists@example.test\n") || !strings.HasSuffix(got, testContent) {
		t.Errorf("command input %q", got)
	}
	if entries, _ := os.ReadDir(f.spool); len(entries) != 0 {
		t.Errorf("spool mailbox written besides mailbox_command")
	}
}

// TestMailboxCommandNoExpansion: local expands no $name in
// mailbox_command; the recipient's data reaches the shell only through
// the environment, censored by command_expansion_filter, so an address
// extension with shell syntax runs nothing.
func TestMailboxCommandNoExpansion(t *testing.T) {
	f := newFixture(t, nil, map[string]string{
		"mailbox_command":     `printf '%s|%s|%s|%s\n' "$RECIPIENT" "$EXTENSION" "$LOCAL" "$recipient" > "$HOME/env"`,
		"recipient_delimiter": "+",
	})
	marker := filepath.Join(t.TempDir(), "x")
	rcpt := "carol+`touch${IFS}" + marker + "`$(touch${IFS}" + marker + ")@example.test"
	r := f.deliver(testContent, rcpt)[0]
	if r.Status != ipc.StatusSent {
		t.Fatalf("result %+v", r)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatalf("a command from the recipient address ran")
	}
	got := f.read(filepath.Join(f.users["carol"].Home, "env"))
	ext := "_touch__IFS_" + censor(marker, "1234567890!@%-_=+:,./abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
	ext = ext + "__" + "_touch__IFS_" + censor(marker, "1234567890!@%-_=+:,./abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") + "_"
	// The extension holds a "/" (the marker's path): as in Postfix, it
	// is an illegal extension and EXTENSION is left empty.
	want := strings.ToLower("carol+"+ext+"@example.test") + "||" + strings.ToLower("carol+"+ext) + "|\n"
	if got != want {
		t.Errorf("command environment %q, want %q", got, want)
	}
}

// TestLuserRelayIsOneAddress: luser_relay is one address, never an alias
// list: an unknown local part with a command in it, substituted for
// $user, is forwarded as an address and runs nothing.
func TestLuserRelayIsOneAddress(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "ran")
	f := newFixture(t, nil, map[string]string{"luser_relay": "$user@relay.example"})
	rcpt := `"|touch ` + marker + `, carol"@example.test`
	r := f.deliver(testContent, rcpt)[0]
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("luser_relay ran a command from the recipient address")
	}
	if r.Status != ipc.StatusSent || len(f.submitted) != 1 || len(f.submitted[0].recipients) != 1 {
		t.Fatalf("result %+v, submitted %+v; want one forwarded address", r, f.submitted)
	}
	if got := f.submitted[0].recipients[0]; !strings.HasSuffix(got, "@relay.example") || !strings.Contains(got, "touch") {
		t.Errorf("forwarded to %q", got)
	}
}

// TestDeliveredToIsTheReceivedRecipient: like Postfix's local(8), every
// delivery of an alias list writes Delivered-To: with the recipient
// local received (team@…, not each member), forwarded copies too
// (frozen_delivered_to = yes, Postfix's default).
func TestDeliveredToIsTheReceivedRecipient(t *testing.T) {
	f := newFixture(t, []string{"team alice, bob, someone@remote.example"}, nil)
	for _, r := range f.deliver(testContent, "team@example.test") {
		if r.Status != ipc.StatusSent {
			t.Fatalf("result %+v\n%s", r, f.log())
		}
	}
	for _, member := range []string{"alice", "bob"} {
		want := "\nReturn-Path: <sender@remote.example>\nX-Original-To: team@example.test\nDelivered-To: team@example.test\nFrom: "
		if got := f.read(filepath.Join(f.spool, member)); !strings.Contains(got, want) {
			t.Errorf("%s's mailbox %q, want %q", member, got, want)
		}
	}
	if len(f.submitted) != 1 || !strings.HasPrefix(f.submitted[0].content, "Delivered-To: team@example.test\n") {
		t.Errorf("forwarded copies %+v", f.submitted)
	}
}

// TestDeliveredToNotFrozen: frozen_delivered_to = no names each
// expansion step, as Postfix does then.
func TestDeliveredToNotFrozen(t *testing.T) {
	f := newFixture(t, []string{"team alice, someone@remote.example"}, map[string]string{"frozen_delivered_to": "no"})
	f.deliver(testContent, "team@example.test")
	if got := f.read(filepath.Join(f.spool, "alice")); !strings.Contains(got, "\nDelivered-To: alice@example.test\n") {
		t.Errorf("alice's mailbox %q", got)
	}
	if len(f.submitted) != 1 || !strings.HasPrefix(f.submitted[0].content, "Delivered-To: team@example.test\n") {
		t.Errorf("forwarded copies %+v", f.submitted)
	}
}
