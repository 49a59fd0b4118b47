// A root install for the security tests: Debian's stock master.cf, daemons dropping to mail_owner, real users, set-group-id postdrop and postqueue.

package tests

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/internal/testaccount"
	"github.com/postern/postern/tests/internal/harness"
)

// rootInstall is a running root instance with real users.
type rootInstall struct {
	*masterRun
	smtpAddr string // the stock smtp service: ADDRESS:25
	cmdDir   string // command_directory: set-group-id postdrop and postqueue
	spool    string // mail_spool_directory
	users    map[string]*testUser
}

// testUser is a system account created for one test.
type testUser struct {
	name     string
	uid, gid int
	home     string
}

// newRootInstall prepares (without starting) a root instance with
// Debian's stock master.cf and the users named (each gets a random
// system name; users["alice"].name is it). extraMain is added to
// main.cf. It skips unless root with useradd, mail_owner postfix and
// the postdrop group.
func newRootInstall(t *testing.T, extraMain string, names ...string) *rootInstall {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the installed privilege model needs root")
	}
	if _, err := exec.LookPath("useradd"); err != nil {
		t.Skip("useradd is not installed")
	}
	if _, err := user.Lookup("postfix"); err != nil {
		t.Skip("no postfix user (mail_owner)")
	}
	postdrop, err := user.LookupGroup("postdrop")
	if err != nil {
		t.Skip("no postdrop group")
	}
	stock, err := os.ReadFile("testdata/master/debian-master.cf")
	if err != nil {
		t.Fatal(err)
	}
	address := fmt.Sprintf("127.%d.%d.%d", 100+os.Getpid()%100, time.Now().Nanosecond()%250+1, time.Now().Nanosecond()/250%250+2)
	in := &rootInstall{
		masterRun: newMasterRun(t, masterRunOptions{masterCF: string(stock), asRoot: true}),
		smtpAddr:  address + ":25",
		users:     map[string]*testUser{},
	}
	in.linkDaemons("smtpd", "pickup", "cleanup", "qmgr", "showq", "smtp", "local", "virtual")
	in.cmdDir = filepath.Join(in.base, "bin")
	if err := os.Mkdir(in.cmdDir, 0o755); err != nil {
		t.Fatal(err)
	}
	harness.BuildWithConfigDir(t, in.cmdDir, in.etc, "sendmail", "postdrop", "postqueue", "postsuper")
	gid, _ := strconv.Atoi(postdrop.Gid)
	for _, name := range []string{"postdrop", "postqueue"} {
		p := filepath.Join(in.cmdDir, name)
		if err := os.Chown(p, 0, gid); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, os.ModeSetgid|0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("postqueue", filepath.Join(in.cmdDir, "mailq")); err != nil {
		t.Fatal(err)
	}
	// Users may create dot-locks in the spool directory.
	in.spool = filepath.Join(in.base, "mail")
	if err := os.Mkdir(in.spool, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(in.spool, 0o1777); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(in.base, "home"), 0o755); err != nil {
		t.Fatal(err)
	}
	random := make([]byte, 3)
	rand.Read(random)
	prefix := "ps" + hex.EncodeToString(random)
	for _, short := range names {
		in.users[short] = createTestUser(t, prefix+short, filepath.Join(in.base, "home", prefix+short))
	}
	harness.WriteFile(t, filepath.Join(in.base, "aliases"), "")
	in.appendMainCF(fmt.Sprintf(`inet_interfaces = %s
myhostname = mx.example.test
mydomain = example.test
myorigin = $myhostname
mydestination = $myhostname, localhost
mynetworks = 127.0.0.0/8
command_directory = %s
alias_maps = texthash:%s/aliases
alias_database =
local_recipient_maps =
mail_spool_directory = %s
virtual_mailbox_base = %[4]s
recipient_delimiter = +
%s`, address, in.cmdDir, in.base, in.spool, extraMain))
	return in
}

// createTestUser adds a system user with its own group and home.
func createTestUser(t *testing.T, name, home string) *testUser {
	t.Helper()
	testaccount.AddUser(t, name, "-M", "-U", "-d", home, "-s", "/bin/sh")
	u, err := user.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	tu := &testUser{name: name, home: home}
	tu.uid, _ = strconv.Atoi(u.Uid)
	tu.gid, _ = strconv.Atoi(u.Gid)
	if err := os.Mkdir(home, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(home, tu.uid, tu.gid); err != nil {
		t.Fatal(err)
	}
	return tu
}

// startAndWait starts master and waits for the SMTP service.
func (in *rootInstall) startAndWait() {
	in.t.Helper()
	in.start()
	waitListening(in.t, in.smtpAddr)
}

// command runs a command from command_directory as who ("" = root),
// without -c: the compiled-in configuration directory is this instance's.
func (in *rootInstall) command(who, stdin, name string, args ...string) harness.Result {
	in.t.Helper()
	inv := harness.Invocation{Path: filepath.Join(in.cmdDir, name), Arg0: name, Args: args, Stdin: stdin, Dir: "/"}
	if who != "" {
		inv.AsUser = in.users[who].name
	}
	return inv.Run(in.t)
}

// mbox returns the content of user's mailbox once it holds n messages.
func (in *rootInstall) mbox(who string, n int) string {
	in.t.Helper()
	path := filepath.Join(in.spool, in.users[who].name)
	deadline := time.Now().Add(30 * time.Second)
	for {
		data, _ := os.ReadFile(path)
		if countFromLines(string(data)) >= n {
			return string(data)
		}
		if time.Now().After(deadline) {
			in.t.Fatalf("%s's mailbox has not %d messages:\n%s\nlog:\n%s", who, n, data, in.log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// countFromLines counts mbox separator lines.
func countFromLines(s string) int {
	n := 0
	for _, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(line, "From ") {
			n++
		}
	}
	return n
}
