// Local submission and delivery on a root install (issue 9): no lost mail, no command injection, Postfix's trust rules; each test runs the stock master.cf with real users.

package tests

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/postern/postern/pkg/command/commandtest"
	"github.com/postern/postern/tests/internal/harness"
)

// TestSecuritySubmissionAsRootAndUsers: root's sendmail, a user's
// sendmail through set-group-id postdrop, and mailq/postqueue -p/-j as a
// user who cannot read the queue all work; a maildrop file pickup cannot
// read is warned about and kept.
func TestSecuritySubmissionAsRootAndUsers(t *testing.T) {
	in := newRootInstall(t, "default_transport = retry:remote delivery disabled in this test\n", "alice", "bob", "carol")
	// carol's mailbox is a FIFO nobody reads: refused, never waited on.
	if err := syscall.Mkfifo(filepath.Join(in.spool, in.users["carol"].name), 0o600); err != nil {
		t.Fatal(err)
	}
	in.startAndWait()
	alice, bob := in.users["alice"], in.users["bob"]

	// root: sendmail -t
	if res := in.command("", "To: "+alice.name+"\nSubject: from root\n\nhi\n", "sendmail", "-t"); res.ExitCode != 0 {
		t.Fatalf("root sendmail -t: %s", res)
	}
	if got := in.mbox("alice", 1); !strings.Contains(got, "Subject: from root\n") {
		t.Errorf("alice's mailbox:\n%s", got)
	}
	// an ordinary user: sendmail runs set-group-id postdrop
	if res := in.command("alice", "Subject: from alice\n\nhello bob\n", "sendmail", bob.name); res.ExitCode != 0 {
		out, _ := exec.Command("sh", "-c", "ls -la "+in.queue+" "+in.cmdDir+"; ls -ld "+in.base+" "+filepath.Dir(in.base)+"; id "+alice.name).CombinedOutput()
		t.Fatalf("alice's sendmail: %s\n%s", res, out)
	}
	if got := in.mbox("bob", 1); !strings.Contains(got, "Subject: from alice\n") || !strings.Contains(got, "From "+alice.name+"@mx.example.test ") {
		t.Errorf("bob's mailbox:\n%s", got)
	}
	in.waitLog(fmt.Sprintf("uid=%d from=<%s>", alice.uid, alice.name), 30*time.Second)

	// a message that stays queued, listed to a user through showq
	if res := in.command("bob", "Subject: out\n\nx\n", "sendmail", "carol@remote.example"); res.ExitCode != 0 {
		t.Fatalf("bob's sendmail to a remote address: %s", res)
	}
	in.waitLog("to=<carol@remote.example>", 30*time.Second)
	for _, c := range []struct{ name, want string }{
		{"postqueue", "carol@remote.example"},
		{"mailq", "(remote delivery disabled in this test)"},
	} {
		args := []string{"-p"}
		if c.name == "mailq" {
			args = nil
		}
		res := in.command("alice", "", c.name, args...)
		if res.ExitCode != 0 || !strings.Contains(res.Stdout, c.want) || !strings.Contains(res.Stdout, bob.name+"@mx.example.test") {
			t.Errorf("%s as a user: %s\nwant %q", c.name, res, c.want)
		}
	}
	// set-group-id postqueue and postdrop trust no other configuration
	evil := filepath.Join(in.base, "evil")
	if err := os.MkdirAll(evil, 0o755); err != nil {
		t.Fatal(err)
	}
	harness.WriteFile(t, filepath.Join(evil, "main.cf"), "queue_directory = "+in.queue+"\nmaillog_file = "+in.queue+"/maildrop/owned\n")
	for _, name := range []string{"postqueue", "postdrop"} {
		res := in.command("alice", "", name, "-c", evil, "-p")
		if want := evil + " is not listed in alternate_config_directories of " + in.etc + "/main.cf"; res.ExitCode == 0 || !strings.Contains(res.Stderr, want) {
			t.Errorf("%s -c as a user: %s\nwant %q", name, res, want)
		}
	}
	if _, err := os.Stat(filepath.Join(in.queue, "maildrop", "owned")); err == nil {
		t.Errorf("a user's -c made a setgid command write into maildrop/")
	}
	res := in.command("alice", "", "postqueue", "-j")
	if res.ExitCode != 0 || !strings.Contains(res.Stdout, `"queue_name": "deferred"`) || !strings.Contains(res.Stdout, `"address": "carol@remote.example"`) {
		t.Errorf("postqueue -j as a user: %s", res)
	}

	// Control characters: a -f with a line break gives one clean sender
	// and Postfix's warning; a HELO with CR and ESC reaches Received: and
	// the log with '?' for each, and a NUL ends it (as in Postfix, whose
	// smtpd sees the command line as a C string).
	res = in.command("alice", "Subject: ctl\n\nbody\n", "sendmail", "-f", "a@x.example\nFrom fake@evil.example Mon Jan  1 00:00:00 2024\nX-Injected: yes", bob.name)
	if want := "sendmail: warning: -f option specified malformed sender: a@x.example?From fake@evil.example"; res.ExitCode != 0 || !strings.Contains(res.Stderr, want) {
		t.Errorf("sendmail -f with a line break: %s\nwant %q", res, want)
	}
	conn, err := net.Dial("tcp", in.smtpAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	fmt.Fprintf(conn, "HELO evil\rX-Injected: yes\x1b[31m\x00unseen\r\nMAIL FROM:<x@remote.example>\r\nRCPT TO:<%s@mx.example.test>\r\nDATA\r\n", bob.name)
	fmt.Fprintf(conn, "Subject: helo\r\n\r\nbody\r\n.\r\nQUIT\r\n")
	io.Copy(io.Discard, conn)
	mbox := in.mbox("bob", 3)
	if strings.Contains(mbox, "X-Injected") && !strings.Contains(mbox, "evil?X-Injected: yes?[31m (") || strings.Contains(mbox, "\nX-Injected") {
		t.Errorf("bob's mailbox has an injected header:\n%s", mbox)
	}
	if !strings.Contains(mbox, "from evil?X-Injected: yes?[31m (") {
		t.Errorf("Received: lacks the HELO name with '?' for controls:\n%s", mbox)
	}
	if n := countFromLines(mbox); n != 3 {
		t.Errorf("bob's mailbox has %d separators, want 3:\n%s", n, mbox)
	}
	if !strings.Contains(mbox, "\nFrom a@x.example ") || strings.Contains(mbox, "fake@evil") {
		t.Errorf("the -f sender is not one clean address:\n%s", mbox)
	}
	if log := in.log(); strings.ContainsAny(log, "\r\x00\x1b") {
		t.Errorf("a control character reached the log")
	}

	// A completed maildrop file pickup (mail_owner) may not read, as an
	// older postdrop left them: warned about and kept, never removed.
	stale := filepath.Join(in.queue, "maildrop", "4ABCDE1234")
	if err := os.WriteFile(stale, []byte("not for pickup"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(stale, alice.uid, alice.gid); err != nil {
		t.Fatal(err)
	}
	if res := in.command("bob", "Subject: wake\n\nx\n", "sendmail", alice.name); res.ExitCode != 0 {
		t.Fatalf("sendmail: %s", res)
	}
	in.mbox("alice", 2)
	in.waitLog("open input file maildrop/4ABCDE1234: permission denied -- left in place", 30*time.Second)
	if _, err := os.Stat(stale); err != nil {
		t.Errorf("pickup removed a file it could not read: %v", err)
	}
	if res := in.command("bob", "Subject: fifo\n\nx\n", "sendmail", in.users["carol"].name); res.ExitCode != 0 {
		t.Fatalf("sendmail: %s", res)
	}
	carolBox := filepath.Join(in.spool, in.users["carol"].name)
	in.waitLog("status=bounced (cannot update mailbox "+carolBox+" for user "+in.users["carol"].name+". destination "+carolBox+" is not a regular file)", 30*time.Second)
	if log := in.log(); strings.Contains(log, "-- removed") || strings.Contains(log, "fatal") {
		t.Errorf("log:\n%s", log)
	}
}

// TestSecurityNoInjection: a recipient address with shell syntax in its
// extension runs nothing: mailbox_command (here from
// mailbox_command_maps) is not expanded by local, and the environment
// values are censored by command_expansion_filter. An address with ".."
// makes virtual(8) create nothing outside virtual_mailbox_base: its
// tables are paranoid (no $1) and ".." results are refused.
func TestSecurityNoInjection(t *testing.T) {
	in := newRootInstall(t, `virtual_mailbox_domains = virt.test
virtual_mailbox_maps = regexp:{ {/^(.*)@virt\.test$$/ $${1}/} }, inline:{ evil@virt.test=../escaped/ }
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
`, "alice", "bob")
	vbase := filepath.Join(in.base, "vmail")
	if err := os.Mkdir(vbase, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(vbase, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	in.appendMainCF("virtual_mailbox_base = " + vbase + "\n")
	cmdMap := filepath.Join(in.base, "mailbox_commands")
	bob := in.users["bob"]
	alice := in.users["alice"]
	if err := os.WriteFile(cmdMap, []byte(bob.name+` printf '%s|%s|%s|%s\n' "$RECIPIENT" "$EXTENSION" "$USER" "$CLIENT_HELO" > "$HOME/env"; cat > "$HOME/mail"`+"\n"+
		alice.name+` sleep 300 & echo $! > "$HOME/background.pid"; sleep 300`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	in.appendMainCF(`mailbox_command = /bin/sh -c 'cat > "$HOME/$recipient"'` + "\nmailbox_command_maps = texthash:" + cmdMap + "\ncommand_time_limit = 2s\n")
	// A regexp alias that would put the local part into a command: local
	// opens alias_maps paranoid and skips it, as Postfix does.
	aliasOut := filepath.Join(in.base, "alias-out")
	if err := os.Mkdir(aliasOut, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(aliasOut, os.ModeSticky|0o777); err != nil {
		t.Fatal(err)
	}
	aliasMarker := filepath.Join(aliasOut, "injected")
	in.appendMainCF("alias_maps = texthash:" + in.base + "/aliases, regexp:{ {/^run-(.*)$$/ \"|touch " + aliasMarker + "-$$1\"}, {/^staff$$/ root} }\n")
	in.startAndWait()
	marker := filepath.Join(in.base, "injected")
	rcpt := bob.name + "+`touch${IFS}" + marker + "`@mx.example.test"
	if err := harness.SendMail(in.smtpAddr, "x@remote.example", []string{rcpt}, []byte("Subject: inject\r\n\r\nbody\r\n")); err != nil {
		t.Fatalf("SendMail: %v\nlog:\n%s", err, in.log())
	}
	in.waitLog("status=sent (delivered to command: ", 30*time.Second)
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("a command from the recipient address ran")
	}
	if err := harness.SendMail(in.smtpAddr, "x@remote.example", []string{"run-x@mx.example.test"}, []byte("Subject: alias\r\n\r\nbody\r\n")); err != nil {
		t.Fatalf("SendMail: %v", err)
	}
	in.waitLog(`to=<run-x@mx.example.test>, relay=local, `, 30*time.Second)
	if _, err := os.Stat(aliasMarker + "-x"); err == nil {
		t.Error("a regexp alias put the recipient's local part into a command")
	}
	if log := in.log(); !strings.Contains(log, "regular expression substitution is not allowed: skipping this rule") ||
		!strings.Contains(log, `status=bounced (unknown user: "run-x")`) {
		t.Errorf("the regexp alias with $1 was not skipped with Postfix's warning:\n%s", log)
	}
	// The table's other rule works (a table without a file is root's):
	// staff is expanded to root.
	if err := harness.SendMail(in.smtpAddr, "x@remote.example", []string{"staff@mx.example.test"}, []byte("Subject: staff\r\n\r\nbody\r\n")); err != nil {
		t.Fatalf("SendMail: %v", err)
	}
	in.waitLog(`to=<root@mx.example.test>, orig_to=<staff@mx.example.test>, relay=local, `, 30*time.Second)
	env, err := os.ReadFile(filepath.Join(bob.home, "env"))
	if err != nil {
		t.Fatalf("the mailbox command did not run: %v\nlog:\n%s", err, in.log())
	}
	// The extension holds a "/" (the marker's path): as in Postfix, it
	// is an illegal extension and EXTENSION is left empty.
	ext := "_touch__ifs_" + strings.ToLower(marker) + "_"
	want := fmt.Sprintf("%s+%s@mx.example.test||%s|localhost\n", bob.name, ext, bob.name)
	if string(env) != want {
		t.Errorf("command environment %q, want %q", env, want)
	}
	if data, _ := os.ReadFile(filepath.Join(bob.home, "mail")); !strings.Contains(string(data), "Subject: inject") {
		t.Errorf("mailbox command input:\n%s", data)
	}

	// A command that outlives command_time_limit is killed with its
	// whole process group and the delivery deferred, not counted as sent.
	if err := harness.SendMail(in.smtpAddr, "x@remote.example", []string{alice.name + "@mx.example.test"}, []byte("Subject: slow\r\n\r\nbody\r\n")); err != nil {
		t.Fatalf("SendMail: %v", err)
	}
	in.waitLog("to=<"+alice.name+"@mx.example.test>, relay=local", 60*time.Second)
	if log := in.log(); !strings.Contains(log, "status=deferred (command time limit exceeded") {
		t.Errorf("alice's slow command was not deferred at the time limit:\n%s", log)
	}
	if _, err := os.Stat(filepath.Join(alice.home, "background.pid")); err == nil {
		if pid := commandtest.PIDFromFile(t, filepath.Join(alice.home, "background.pid")); !commandtest.Gone(pid, 30*time.Second) {
			t.Errorf("the command's background child %d outlived the time limit", pid)
		}
	} else {
		t.Errorf("alice's command did not run: %v", err)
	}

	for _, rcpt := range []string{"../out/x@virt.test", "evil@virt.test"} {
		// smtpd may refuse it already; what matters is what virtual does.
		harness.SendMail(in.smtpAddr, "x@remote.example", []string{rcpt}, []byte("Subject: escape\r\n\r\nbody\r\n"))
	}
	in.waitLog("warning: recipient evil@virt.test: bad mailbox path ../escaped/ in ", 30*time.Second)
	for _, dir := range []string{"out", "escaped"} {
		if _, err := os.Stat(filepath.Join(in.base, dir)); err == nil {
			t.Errorf("virtual created %s outside virtual_mailbox_base", dir)
		}
	}
}

// TestSecurityForwardAndIncludeTrust: .forward and :include: files are
// obeyed as Postfix's local(8) obeys them. A .forward owned by another
// user or world-writable is ignored (mailbox delivery); commands in a
// user's .forward and in files it includes run as that user; a command
// in a root-owned alias runs as default_privs, one in an :include: file
// listed there as the file's owner; an :include: file is looked up with
// the user's rights, so a directory the user cannot search hides it.
func TestSecurityForwardAndIncludeTrust(t *testing.T) {
	in := newRootInstall(t, "allow_mail_to_commands = alias, forward, include\n", "alice", "bob", "carol", "dave", "eve")
	u := in.users
	out := filepath.Join(in.base, "out")
	private := filepath.Join(in.base, "private")
	for dir, mode := range map[string]os.FileMode{out: os.ModeSticky | 0o777, private: 0o700} {
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, mode); err != nil {
			t.Fatal(err)
		}
	}
	put := func(path, content string, owner *testUser, mode os.FileMode) {
		t.Helper()
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		uid, gid := 0, 0
		if owner != nil {
			uid, gid = owner.uid, owner.gid
		}
		if err := os.Chown(path, uid, gid); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
	}
	put(filepath.Join(u["alice"].home, ".forward"), `"|touch `+out+`/pwned-alice"`+"\n", u["eve"], 0o644)
	put(filepath.Join(u["bob"].home, ".forward"), `"|touch `+out+`/pwned-bob"`+"\n", u["bob"], 0o666)
	put(filepath.Join(u["carol"].home, ".forward"), `"|id -u > $HOME/cmd.uid", :include:`+in.base+"/eve.list\n", u["carol"], 0o600)
	put(filepath.Join(in.base, "eve.list"), `"|id -u > $HOME/inc.uid"`+"\n", u["eve"], 0o644)
	put(filepath.Join(u["dave"].home, ".forward"), ":include:"+private+"/secret.list\n", u["dave"], 0o600)
	put(filepath.Join(private, "secret.list"), u["eve"].name+"\n", nil, 0o644)
	put(filepath.Join(in.base, "eve2.list"), `"|id -u > `+out+`/eve2.uid"`+"\n", u["eve"], 0o644)
	put(filepath.Join(in.base, "aliases"), `rootcmd "|id -u > `+out+`/rootcmd.uid"`+"\ninclist :include:"+in.base+"/eve2.list\n", nil, 0o644)
	in.startAndWait()

	rcpts := []string{u["alice"].name, u["bob"].name, u["carol"].name, u["dave"].name, "rootcmd", "inclist"}
	for i := range rcpts {
		rcpts[i] += "@mx.example.test"
	}
	if err := harness.SendMail(in.smtpAddr, "x@remote.example", rcpts, []byte("Subject: trust\r\n\r\nbody\r\n")); err != nil {
		t.Fatalf("SendMail: %v\nlog:\n%s", err, in.log())
	}
	for _, r := range rcpts {
		in.waitLog("to=<"+r+">, relay=local", 30*time.Second)
	}
	in.waitLog("to=<rootcmd@mx.example.test>", 30*time.Second)
	log := in.log()
	for _, who := range []string{"alice", "bob"} {
		if !strings.Contains(in.mbox(who, 1), "Subject: trust") {
			t.Errorf("%s's mailbox lacks the message", who)
		}
		if _, err := os.Stat(filepath.Join(out, "pwned-"+who)); err == nil {
			t.Errorf("the command in %s's untrusted .forward ran", who)
		}
	}
	for _, want := range []string{
		fmt.Sprintf("warning: file %s/.forward has bad owner uid %d", u["alice"].home, u["eve"].uid),
		fmt.Sprintf("warning: file %s/.forward is world writable", u["bob"].home),
		fmt.Sprintf("warning: unable to lookup :include: file %s/secret.list: permission denied", private),
		fmt.Sprintf("to=<%s@mx.example.test>, relay=local", u["dave"].name),
	} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q", want)
		}
	}
	if !strings.Contains(log, "dsn=5.3.5, status=bounced (mail system configuration error)") {
		t.Errorf("dave's unreadable :include: did not bounce as a configuration error")
	}
	if strings.Contains(log, "to=<"+u["eve"].name+"@mx.example.test>") {
		t.Errorf("an address from a file dave may not read was delivered to")
	}
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		filepath.Join(u["carol"].home, "cmd.uid"): fmt.Sprint(u["carol"].uid),
		filepath.Join(u["carol"].home, "inc.uid"): fmt.Sprint(u["carol"].uid),
		filepath.Join(out, "rootcmd.uid"):         nobody.Uid,
		filepath.Join(out, "eve2.uid"):            fmt.Sprint(u["eve"].uid),
	} {
		data, err := os.ReadFile(path)
		if got := strings.TrimSpace(string(data)); err != nil || got != want {
			t.Errorf("%s: %q (%v), want uid %s", path, got, err, want)
		}
	}
	if t.Failed() {
		t.Logf("log:\n%s", log)
	}
}

// TestLocalDeliveredToListAndForward: local(8) writes the recipient as
// it received it in Delivered-To:, as Postfix's does (and compares for
// loop detection): each member of an alias list gets "Delivered-To:
// team@…", and the user a .forward sends to gets "Delivered-To:" with
// the forwarding user's address.
func TestLocalDeliveredToListAndForward(t *testing.T) {
	in := newRootInstall(t, "", "alice", "bob", "carol", "dave")
	u := in.users
	harness.WriteFile(t, filepath.Join(in.base, "aliases"), "team "+u["alice"].name+", "+u["bob"].name+"\n")
	forward := filepath.Join(u["carol"].home, ".forward")
	harness.WriteFile(t, forward, u["dave"].name+"\n")
	if err := os.Chown(forward, u["carol"].uid, u["carol"].gid); err != nil {
		t.Fatal(err)
	}
	in.startAndWait()
	carol := u["carol"].name + "@mx.example.test"
	if err := harness.SendMail(in.smtpAddr, "x@remote.example", []string{"team@mx.example.test", carol}, []byte("Subject: lists\r\n\r\nbody\r\n")); err != nil {
		t.Fatalf("SendMail: %v\nlog:\n%s", err, in.log())
	}
	for _, who := range []string{"alice", "bob"} {
		if box := in.mbox(who, 1); !strings.Contains(box, "\nDelivered-To: team@mx.example.test\n") {
			t.Errorf("%s's mailbox lacks Delivered-To: team@mx.example.test:\n%s", who, box)
		}
	}
	if box := in.mbox("dave", 1); !strings.Contains(box, "\nDelivered-To: "+carol+"\n") {
		t.Errorf("dave's mailbox lacks Delivered-To: %s:\n%s", carol, box)
	}
}
