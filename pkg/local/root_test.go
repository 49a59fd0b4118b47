// Deliveries to real system users created with useradd: ownership, modes and content of what they receive (root only).

package local

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/postern/postern/pkg/config"
	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/maillog"
)

// rootFixture is an agent running as root over real users.
type rootFixture struct {
	*fixture
	base  string
	users []*User
}

// newRootFixture creates n users named pt_<random>_<i> with homes under
// a temporary directory, removed when the test ends.
func newRootFixture(t *testing.T, n int, settings map[string]string) *rootFixture {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("creating users and delivering as them needs root")
	}
	if _, err := exec.LookPath("useradd"); err != nil {
		t.Skip("useradd is not installed")
	}
	base := t.TempDir()
	for _, d := range []string{base, filepath.Dir(base)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	random := make([]byte, 3)
	rand.Read(random)
	prefix := "pt_" + hex.EncodeToString(random)
	if err := os.Mkdir(filepath.Join(base, "home"), 0o755); err != nil {
		t.Fatal(err)
	}
	rf := &rootFixture{base: base}
	for i := range n {
		name := prefix + "_" + string(rune('a'+i))
		home := filepath.Join(base, "home", name)
		if err := retried("useradd", "-M", "-U", "-d", home, "-s", "/bin/sh", name); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := retried("userdel", name); err != nil {
				t.Error(err)
			}
		})
		u, err := SystemUser(name)
		if err != nil || u == nil {
			t.Fatalf("lookup %s: %v", name, err)
		}
		if err := os.MkdirAll(home, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(home, int(u.UID), int(u.GID)); err != nil {
			t.Fatal(err)
		}
		rf.users = append(rf.users, u)
	}
	// The spool directory is root:mail 2775, as on Debian: the users
	// cannot create their mailboxes, only dot-locks.
	spool := filepath.Join(base, "spool")
	if err := os.Mkdir(spool, 0o755); err != nil {
		t.Fatal(err)
	}
	if g, err := user.LookupGroup("mail"); err == nil {
		gid, _ := strconv.Atoi(g.Gid)
		os.Chown(spool, 0, gid)
		os.Chmod(spool, 0o2775)
	} else {
		os.Chmod(spool, 0o1777)
	}
	f := &fixture{t: t, dir: base, spool: spool, logPath: filepath.Join(base, "maillog")}
	aliasPath := filepath.Join(base, "aliases")
	cfg := config.Defaults(filepath.Join(base, "etc"))
	for name, value := range map[string]string{
		"myhostname": "mx.example.test", "myorigin": "example.test", "mydestination": "example.test",
		"alias_maps": "texthash:" + aliasPath, "mail_spool_directory": spool, "recipient_delimiter": "+",
	} {
		cfg.Set(name, value)
	}
	for name, value := range settings {
		cfg.Set(name, value)
	}
	rf.fixture = f
	rf.writeAs(nil, aliasPath, "")
	s, err := FromConfig(cfg, func(w string) { t.Errorf("warning: %s", w) })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	log, err := maillog.New(maillog.Options{Program: "postfix/local", Hostname: "mx.example.test", File: f.logPath, FilePrefixes: base})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { log.Close() })
	f.agent = &Agent{Settings: s, Log: log, Privileged: true,
		LookupUser: SystemUser, LookupUID: SystemUserByID,
		Submit: func(_ context.Context, sender string, rcpts []string, content io.Reader) (string, error) {
			data, err := io.ReadAll(content)
			f.submitted = append(f.submitted, submission{sender, rcpts, string(data)})
			return "F0RWARD", err
		}}
	return rf
}

// retried runs a user administration command, retrying while another
// process (a parallel test) holds the lock on /etc/passwd.
func retried(name string, args ...string) error {
	var err error
	var out []byte
	for range 50 {
		if out, err = exec.Command(name, args...).CombinedOutput(); err == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
}

// writeAs writes a file owned by u (root when nil), mode 0644.
func (rf *rootFixture) writeAs(u *User, path, text string) {
	rf.t.Helper()
	rf.write(path, text)
	if u != nil {
		if err := os.Chown(path, int(u.UID), int(u.GID)); err != nil {
			rf.t.Fatal(err)
		}
	}
}

// reload reopens the alias table after the test wrote it.
func (rf *rootFixture) reload() {
	rf.t.Helper()
	s, err := FromConfig(rf.agent.Settings.Config, func(w string) { rf.t.Errorf("warning: %s", w) })
	if err != nil {
		rf.t.Fatal(err)
	}
	rf.t.Cleanup(s.Close)
	rf.agent.Settings = s
}

// checkOwned checks path's owner and permission bits.
func checkOwned(t *testing.T, path string, u *User, mode os.FileMode) {
	t.Helper()
	st, err := os.Lstat(path)
	if err != nil {
		t.Error(err)
		return
	}
	sys := st.Sys().(*syscall.Stat_t)
	if sys.Uid != u.UID || sys.Gid != u.GID {
		t.Errorf("%s owned by %d:%d, want %s %d:%d", path, sys.Uid, sys.Gid, u.Name, u.UID, u.GID)
	}
	if mode != 0 && st.Mode().Perm() != mode {
		t.Errorf("%s mode %v, want %v", path, st.Mode().Perm(), mode)
	}
}

func TestRootMboxAliasesForwardAndCommands(t *testing.T) {
	rf := newRootFixture(t, 4, nil)
	a, b, c, d := rf.users[0], rf.users[1], rf.users[2], rf.users[3]
	out := filepath.Join(rf.base, "out")
	if err := os.Mkdir(out, 0o777); err != nil {
		t.Fatal(err)
	}
	os.Chmod(out, 0o1777)
	rf.writeAs(nil, filepath.Join(rf.base, "members"), a.Name+"\n"+b.Name+"\n")
	// The alias file belongs to a: its commands and files run as a.
	rf.writeAs(a, filepath.Join(rf.base, "aliases"), strings.Join([]string{
		"list " + a.Name + ", " + b.Name + ", " + c.Name,
		"inc :include:" + filepath.Join(rf.base, "members"),
		`pipe "|cat > ` + out + `/piped"`,
		"arch " + out + "/archive",
	}, "\n")+"\n")
	rf.reload()
	// b forwards to c and to a command, run as b.
	rf.writeAs(b, filepath.Join(b.Home, ".forward"), c.Name+"\n\"|cat > "+out+"/forwarded\"\n")

	tests := []struct {
		rcpt   string
		status ipc.DeliveryStatus
		dsn    string
		reply  string
	}{
		{a.Name + "@example.test", ipc.StatusSent, "2.0.0", "delivered to mailbox"},
		{"list@example.test", ipc.StatusSent, "2.0.0", ""},
		{"inc@example.test", ipc.StatusSent, "2.0.0", ""},
		{"pipe@example.test", ipc.StatusSent, "2.0.0", "delivered to command: cat > " + out + "/piped"},
		{"arch@example.test", ipc.StatusSent, "2.0.0", "delivered to file: " + out + "/archive"},
		{c.Name + "+tag@example.test", ipc.StatusSent, "2.0.0", "delivered to mailbox"},
		{"pt_nosuchuser@example.test", ipc.StatusBounced, "5.1.1", `unknown user: "pt_nosuchuser"`},
		{"-" + a.Name + "@example.test", ipc.StatusBounced, "5.1.3", "bad address syntax"},
	}
	for _, tt := range tests {
		r := rf.deliver(testContent, tt.rcpt)[0]
		if r.Status != tt.status || r.DSNCode != tt.dsn || (tt.reply != "" && r.Reply != tt.reply) {
			t.Errorf("%s: %v %s (%s), want %v %s (%s)", tt.rcpt, r.Status, r.DSNCode, r.Reply, tt.status, tt.dsn, tt.reply)
		}
	}
	// b's .forward: c's mailbox and a command run as b.
	if r := rf.deliver(testContent, b.Name+"@example.test")[0]; r.Status != ipc.StatusSent {
		t.Errorf("delivery to %s: %+v", b.Name, r)
	}

	mboxA := filepath.Join(rf.spool, a.Name)
	checkOwned(t, mboxA, a, 0o600)
	first, _, _ := strings.Cut(rf.read(mboxA), "\n\nFrom ")
	if got, want := withoutFromLines(t, first+"\n\n", "sender@remote.example"),
		mboxEntry("sender@remote.example", a.Name+"@example.test", a.Name+"@example.test"); got != want {
		t.Errorf("first entry of %s:\n%s\nwant:\n%s", mboxA, got, want)
	}
	// a: direct, list, include. b: none, its .forward sends what reaches
	// it (from list, include and directly) to c. c: list (one copy,
	// although it is reached directly and through b), +tag, include, direct b.
	wantCounts := map[*User]int{a: 3, b: 0, c: 4}
	for u, n := range wantCounts {
		data, _ := os.ReadFile(filepath.Join(rf.spool, u.Name))
		if got := strings.Count("\n"+string(data), "\nFrom sender@remote.example  "); got != n {
			t.Errorf("%s has %d messages, want %d", u.Name, got, n)
		}
		if n > 0 {
			checkOwned(t, filepath.Join(rf.spool, u.Name), u, 0o600)
		}
	}
	if !strings.Contains(rf.read(filepath.Join(rf.spool, c.Name)), "Delivered-To: "+c.Name+"+tag@example.test\n") {
		t.Errorf("%s lacks the Delivered-To of the extension address", c.Name)
	}
	checkOwned(t, filepath.Join(out, "piped"), a, 0)
	checkOwned(t, filepath.Join(out, "archive"), a, 0o600)
	checkOwned(t, filepath.Join(out, "forwarded"), b, 0)
	if !strings.Contains(rf.read(filepath.Join(out, "forwarded")), "Delivered-To: "+b.Name+"@example.test\n") {
		t.Errorf("forwarded command input lacks Delivered-To")
	}
	if _, err := os.Stat(filepath.Join(rf.spool, d.Name)); err == nil {
		t.Errorf("%s got mail", d.Name)
	}

	// A message that already went through a's mailbox is a loop.
	r := rf.deliver("Delivered-To: "+a.Name+"@example.test\n"+testContent, a.Name+"@example.test")[0]
	if r.Status != ipc.StatusBounced || r.DSNCode != "5.4.6" || r.Reply != "mail forwarding loop for "+a.Name+"@example.test" {
		t.Errorf("loop: %+v", r)
	}

	// A mailbox that is a symbolic link is refused.
	target := filepath.Join(rf.base, "target")
	rf.writeAs(nil, target, "root's file\n")
	if err := os.Symlink(target, filepath.Join(rf.spool, d.Name)); err != nil {
		t.Fatal(err)
	}
	if r := rf.deliver(testContent, d.Name+"@example.test")[0]; r.Status == ipc.StatusSent {
		t.Errorf("delivery through a symlinked mailbox: %+v", r)
	}
	if got := rf.read(target); got != "root's file\n" {
		t.Errorf("symlink target changed to %q", got)
	}
}

func TestRootMaildir(t *testing.T) {
	rf := newRootFixture(t, 1, map[string]string{"home_mailbox": "Maildir/"})
	u := rf.users[0]
	r := rf.deliver(testContent, u.Name+"@example.test")[0]
	if r.Status != ipc.StatusSent || r.Reply != "delivered to maildir" {
		t.Fatalf("result %+v", r)
	}
	maildir := filepath.Join(u.Home, "Maildir")
	checkOwned(t, maildir, u, 0o700)
	entries, err := os.ReadDir(filepath.Join(maildir, "new"))
	if err != nil || len(entries) != 1 {
		t.Fatalf("new/: %v %v", entries, err)
	}
	file := filepath.Join(maildir, "new", entries[0].Name())
	checkOwned(t, file, u, 0o600)
	want := "Return-Path: <sender@remote.example>\nX-Original-To: " + u.Name + "@example.test\nDelivered-To: " + u.Name + "@example.test\n" + testContent
	if got := rf.read(file); got != want {
		t.Errorf("maildir file %q, want %q", got, want)
	}
}

// TestRootCommandCredentials: a command runs with exactly the
// credentials Postfix's local gives it (set_ugid in the child: real,
// effective, saved and file system IDs all the owner's, the owner's
// primary group as its only group, not its supplementary groups, no
// capability), also while other deliveries of the same
// process write mailboxes with a thread's effective IDs switched
// (privs.AsUser): the child never starts from such a thread.
func TestRootCommandCredentials(t *testing.T) {
	rf := newRootFixture(t, 1, nil)
	a := rf.users[0]
	addSupplementaryGroup(t, a)
	out := filepath.Join(rf.base, "out")
	if err := os.Mkdir(out, 0o777); err != nil {
		t.Fatal(err)
	}
	os.Chmod(out, 0o1777)
	rf.writeAs(a, filepath.Join(rf.base, "aliases"),
		`creds "|grep -E '^(Uid|Gid|Groups|Cap(Inh|Prm|Eff|Amb)):' /proc/self/status > `+out+`/creds.$$"`+"\n")
	rf.reload()

	const rounds = 8
	results := make(chan ipc.RecipientResult, 2*rounds)
	for i := range 2 * rounds {
		rcpt := "creds@example.test"
		if i%2 == 1 {
			rcpt = a.Name + "@example.test"
		}
		go func() {
			req := &ipc.DeliveryRequest{Queue: "active", QueueID: "4A1B2C3D4E", Sender: "sender@remote.example", Transport: "local", Nexthop: "example.test",
				Recipients: []ipc.Recipient{{Address: rcpt, Offset: 100}}}
			open := func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(testContent)), nil }
			res := rf.agent.DeliverContent(context.Background(), req, open)
			results <- res.Recipients[0]
		}()
	}
	for range 2 * rounds {
		if r := <-results; r.Status != ipc.StatusSent {
			t.Errorf("%s: %+v", r.Address, r)
		}
	}
	if data, _ := os.ReadFile(filepath.Join(rf.spool, a.Name)); strings.Count("\n"+string(data), "\nFrom sender@remote.example  ") != rounds {
		t.Errorf("%s's mailbox has not %d messages:\n%s", a.Name, rounds, data)
	}

	uid, gid := strconv.Itoa(int(a.UID)), strconv.Itoa(int(a.GID))
	want := map[string]string{
		"Uid":    strings.Join([]string{uid, uid, uid, uid}, " "),
		"Gid":    strings.Join([]string{gid, gid, gid, gid}, " "),
		"Groups": gid,
		"CapInh": "0000000000000000", "CapPrm": "0000000000000000",
		"CapEff": "0000000000000000", "CapAmb": "0000000000000000",
	}
	files, _ := filepath.Glob(filepath.Join(out, "creds.*"))
	if len(files) != rounds {
		t.Fatalf("%d commands left their credentials, want %d", len(files), rounds)
	}
	for _, file := range files {
		got := map[string]string{}
		for _, line := range strings.Split(strings.TrimSpace(rf.read(file)), "\n") {
			name, value, _ := strings.Cut(line, ":")
			fields := strings.Fields(value)
			if name == "Groups" {
				slices.SortFunc(fields, func(x, y string) int {
					a, _ := strconv.Atoi(x)
					b, _ := strconv.Atoi(y)
					return a - b
				})
			}
			got[name] = strings.Join(fields, " ")
		}
		if !maps.Equal(got, want) {
			t.Errorf("command credentials %v, want %v", got, want)
		}
	}
}

// TestRootConcurrentFirstDeliveries: deliveries that arrive at once for
// a user whose spool mailbox does not exist yet all succeed. The mailbox
// root creates for the user is not seen by the others before it is the
// user's (a delivery that found it still root's could not open it and
// bounced).
func TestRootConcurrentFirstDeliveries(t *testing.T) {
	rf := newRootFixture(t, 1, nil)
	a := rf.users[0]
	mbox := filepath.Join(rf.spool, a.Name)
	const rounds, together = 5, 8
	for round := range rounds {
		os.Remove(mbox)
		results := make(chan ipc.RecipientResult, together)
		for range together {
			go func() {
				req := &ipc.DeliveryRequest{Queue: "active", QueueID: "4A1B2C3D4E", Sender: "sender@remote.example", Transport: "local", Nexthop: "example.test",
					Recipients: []ipc.Recipient{{Address: a.Name + "@example.test", Offset: 100}}}
				open := func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(testContent)), nil }
				results <- rf.agent.DeliverContent(context.Background(), req, open).Recipients[0]
			}()
		}
		for range together {
			if r := <-results; r.Status != ipc.StatusSent {
				t.Errorf("round %d: %+v", round, r)
			}
		}
		checkOwned(t, mbox, a, 0o600)
		if got := strings.Count("\n"+rf.read(mbox), "\nFrom sender@remote.example  "); got != together {
			t.Errorf("round %d: %d messages in the mailbox, want %d", round, got, together)
		}
	}
}

// TestRootNoSupplementaryGroups: as Postfix's set_eugid, a mailbox or
// file delivery runs with the recipient's user ID and one group, the
// process's only one (the user's primary group, or the group of a
// group-writable spool directory while the mailbox is opened), never the
// user's supplementary groups: a mailbox or file only writable through
// one of them is not written, with Postfix's texts.
func TestRootNoSupplementaryGroups(t *testing.T) {
	rf := newRootFixture(t, 1, nil)
	a := rf.users[0]
	gid := addSupplementaryGroup(t, a)
	groupOnly := func(path string) {
		rf.writeAs(nil, path, "")
		if err := os.Chown(path, 0, gid); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, 0o660); err != nil {
			t.Fatal(err)
		}
	}
	mbox := filepath.Join(rf.spool, a.Name)
	groupOnly(mbox)
	r := rf.deliver(testContent, a.Name+"@example.test")[0]
	want := "cannot update mailbox " + mbox + " for user " + a.Name + ". cannot open file: Permission denied"
	if r.Status != ipc.StatusBounced || r.DSNCode != "5.2.0" || r.Reply != want {
		t.Errorf("mailbox delivery: %+v, want bounced 5.2.0 %q", r, want)
	}

	out := filepath.Join(rf.base, "out")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(out, "file")
	groupOnly(file)
	rf.writeAs(a, filepath.Join(a.Home, ".forward"), file+"\n")
	r = rf.deliver(testContent, a.Name+"+x@example.test")[0]
	want = "cannot append message to file " + file + ": cannot open file: Permission denied"
	if r.Status != ipc.StatusBounced || r.DSNCode != "5.2.0" || r.Reply != want {
		t.Errorf("file delivery: %+v, want bounced 5.2.0 %q", r, want)
	}
	for _, path := range []string{mbox, file} {
		if got := rf.read(path); got != "" {
			t.Errorf("%s written through a supplementary group: %q", path, got)
		}
	}
}

// addSupplementaryGroup makes a new group, removed when the test ends,
// a supplementary group of u's, and returns its ID.
func addSupplementaryGroup(t *testing.T, u *User) int {
	t.Helper()
	group := u.Name + "_g"
	if err := retried("groupadd", group); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := retried("groupdel", group); err != nil {
			t.Error(err)
		}
	})
	if err := retried("usermod", "-a", "-G", group, u.Name); err != nil {
		t.Fatal(err)
	}
	g, err := user.LookupGroup(group)
	if err != nil {
		t.Fatal(err)
	}
	gid, _ := strconv.Atoi(g.Gid)
	sys, err := user.Lookup(u.Name)
	if err != nil {
		t.Fatal(err)
	}
	if ids, err := sys.GroupIds(); err != nil || !slices.Contains(ids, g.Gid) {
		t.Fatalf("%s is not in group %s: %v %v", u.Name, group, ids, err)
	}
	return gid
}
