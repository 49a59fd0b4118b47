// Tests of scripts/install.sh (`make install`) into a DESTDIR staging root: files, modes, owners, links and queue directories.

package tests

import (
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/postern/postern/tests/internal/harness"
)

var (
	installedCommands = []string{"postfix", "postconf", "postmap", "postalias", "postqueue", "postsuper", "postcat", "sendmail", "postdrop", "postlog"}
	installedDaemons  = []string{"master", "smtpd", "cleanup", "qmgr", "pickup", "showq", "smtp", "lmtp", "local", "virtual", "pipe", "spawn", "anvil", "verify"}
)

// installTree copies install.sh and the etc/ files it installs into base,
// laid out as in the repository, so an unprivileged user can read them.
func installTree(t *testing.T, base string) string {
	t.Helper()
	for _, name := range []string{"scripts/install.sh", "etc/main.cf", "etc/master.cf", "etc/aliases"} {
		data, err := os.ReadFile(filepath.Join("..", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(base, filepath.Dir(name)), 0o755); err != nil {
			t.Fatal(err)
		}
		harness.WriteFile(t, filepath.Join(base, name), string(data))
	}
	for _, name := range append(append([]string{}, installedCommands...), installedDaemons...) {
		harness.Bin(t, name) // fails with the compiler output when one did not build
	}
	return filepath.Join(base, "scripts", "install.sh")
}

// runInstall runs install.sh with DESTDIR=dest and the extra environment.
func runInstall(t *testing.T, script, dest, asUser string, env ...string) harness.Result {
	t.Helper()
	return harness.Invocation{
		Path:   "sh",
		Args:   []string{script},
		Env:    append([]string{"DESTDIR=" + dest, "POSTERN_BIN_DIR=" + harness.BinDir(t)}, env...),
		Dir:    filepath.Dir(script),
		AsUser: asUser,
	}.Run(t)
}

// fileWant is what one installed path must be.
type fileWant struct {
	path  string
	mode  os.FileMode
	owner string // user:group, checked only for a root install
}

func checkFiles(t *testing.T, dest string, wants []fileWant, checkOwners bool) {
	t.Helper()
	for _, w := range wants {
		st, err := os.Lstat(filepath.Join(dest, w.path))
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if st.Mode() != w.mode {
			t.Errorf("%s: mode %v, want %v", w.path, st.Mode(), w.mode)
		}
		if !checkOwners {
			continue
		}
		sys := st.Sys().(*syscall.Stat_t)
		if got := ownerName(sys.Uid, sys.Gid); got != w.owner {
			t.Errorf("%s: owned by %s, want %s", w.path, got, w.owner)
		}
	}
}

func ownerName(uid, gid uint32) string {
	u, g := strconv.Itoa(int(uid)), strconv.Itoa(int(gid))
	if found, err := user.LookupId(u); err == nil {
		u = found.Username
	}
	if found, err := user.LookupGroupId(g); err == nil {
		g = found.Name
	}
	return u + ":" + g
}

// expectedInstall lists the paths a default install creates.
func expectedInstall() []fileWant {
	var wants []fileWant
	for _, c := range installedCommands {
		w := fileWant{"usr/sbin/" + c, 0o755, "root:root"}
		if c == "postdrop" || c == "postqueue" {
			w = fileWant{"usr/sbin/" + c, 0o555 | os.ModeSetgid, "root:postdrop"}
		}
		wants = append(wants, w)
	}
	for _, d := range installedDaemons {
		wants = append(wants, fileWant{"usr/lib/postfix/sbin/" + d, 0o755, "root:root"})
	}
	return append(wants,
		fileWant{"etc/postfix", os.ModeDir | 0o755, "root:root"},
		fileWant{"etc/postfix/main.cf", 0o644, "root:root"},
		fileWant{"etc/postfix/master.cf", 0o644, "root:root"},
		fileWant{"etc/aliases", 0o644, "root:root"},
		fileWant{"etc/aliases.db", 0o644, "root:root"},
		fileWant{"var/spool/postfix", os.ModeDir | 0o755, "root:root"},
		fileWant{"var/spool/postfix/pid", os.ModeDir | 0o755, "root:root"},
		fileWant{"var/spool/postfix/incoming", os.ModeDir | 0o700, "postfix:root"},
		fileWant{"var/spool/postfix/maildrop", os.ModeDir | 0o730, "postfix:postdrop"},
		fileWant{"var/spool/postfix/public", os.ModeDir | 0o710, "postfix:postdrop"},
		fileWant{"var/lib", os.ModeDir | 0o755, "root:root"},
		fileWant{"var/lib/postfix", os.ModeDir | 0o700, "postfix:postfix"},
	)
}

func checkLinks(t *testing.T, dest string) {
	t.Helper()
	// Debian's postfix package links these to sendmail, which acts as
	// mailq or newaliases when called by that name.
	for link, target := range map[string]string{
		"usr/bin/newaliases": "../sbin/sendmail",
		"usr/bin/mailq":      "../sbin/sendmail",
		"usr/lib/sendmail":   "../sbin/sendmail",
	} {
		got, err := os.Readlink(filepath.Join(dest, link))
		if err != nil || got != target {
			t.Errorf("%s -> %q (%v), want -> %q", link, got, err, target)
		}
	}
}

func TestInstallAsRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("installing with owners needs root")
	}
	for _, name := range []string{"postfix", "postdrop"} {
		if _, err := user.LookupGroup(name); err != nil {
			t.Skipf("group %s is missing and the test must not create system groups: %v", name, err)
		}
	}
	script := installTree(t, t.TempDir())
	dest := t.TempDir()
	res := runInstall(t, script, dest, "")
	if res.ExitCode != 0 {
		t.Fatalf("install.sh: %s", res)
	}
	checkFiles(t, dest, expectedInstall(), true)
	checkLinks(t, dest)
	installed, _ := os.ReadFile(filepath.Join(dest, "etc/postfix/main.cf"))
	source, _ := os.ReadFile(filepath.Join("..", "etc", "main.cf"))
	if string(installed) != string(source) {
		t.Errorf("installed main.cf differs from etc/main.cf")
	}
	// The installed postconf runs and reads the installed main.cf.
	out := harness.RunConfig(t, filepath.Join(dest, "usr/sbin/postconf"), filepath.Join(dest, "etc/postfix"), "-h", "daemon_directory")
	if out.ExitCode != 0 || out.Stdout != "/usr/lib/postfix/sbin\n" {
		t.Errorf("installed postconf -h daemon_directory: %s", out)
	}
	// A second run keeps everything and succeeds.
	if res := runInstall(t, script, dest, ""); res.ExitCode != 0 {
		t.Fatalf("second install.sh: %s", res)
	}
	checkFiles(t, dest, expectedInstall(), true)
}

func TestInstallKeepsExistingConfiguration(t *testing.T) {
	base := harness.SharedTempDir(t)
	dest := filepath.Join(base, "dest")
	mainCF := "# mine\ndaemon_directory = /usr/libexec/postern\ncommand_directory = /usr/local/sbin\n"
	harness.WriteFile(t, filepath.Join(dest, "etc/postfix/main.cf"), mainCF)
	script := installTree(t, filepath.Join(base, "src"))
	asUser := harness.Unprivileged(t, base)
	res := runInstall(t, script, dest, asUser, "NO_CHOWN=1")
	if res.ExitCode != 0 {
		t.Fatalf("install.sh NO_CHOWN=1: %s", res)
	}
	if got, _ := os.ReadFile(filepath.Join(dest, "etc/postfix/main.cf")); string(got) != mainCF {
		t.Errorf("existing main.cf overwritten:\n%s", got)
	}
	if !strings.Contains(res.Stdout, "keeping the existing "+filepath.Join(dest, "etc/postfix/main.cf")) {
		t.Errorf("install.sh does not say it keeps main.cf:\n%s", res)
	}
	wants := []fileWant{
		{"usr/libexec/postern/master", 0o755, ""},
		{"usr/libexec/postern/virtual", 0o755, ""},
		{"usr/libexec/postern/anvil", 0o755, ""},
		{"usr/local/sbin/postfix", 0o755, ""},
		{"usr/local/sbin/postdrop", 0o555 | os.ModeSetgid, ""},
		{"etc/postfix/master.cf", 0o644, ""},
		{"var/spool/postfix/maildrop", os.ModeDir | 0o730, ""},
	}
	checkFiles(t, dest, wants, false)
	if _, err := os.Stat(filepath.Join(dest, "usr/lib/postfix/sbin/master")); err == nil {
		t.Errorf("daemons installed into the default daemon_directory despite main.cf")
	}
	if got, err := os.Readlink(filepath.Join(dest, "usr/sbin/sendmail")); err != nil || got != "../local/sbin/sendmail" {
		t.Errorf("sendmail_path link -> %q (%v), want -> ../local/sbin/sendmail", got, err)
	}
}

func TestInstallUnprivilegedNeedsNoChown(t *testing.T) {
	base := harness.SharedTempDir(t)
	script := installTree(t, filepath.Join(base, "src"))
	asUser := harness.Unprivileged(t, base)
	res := runInstall(t, script, filepath.Join(base, "dest"), asUser)
	if res.ExitCode == 0 || !strings.Contains(res.Stderr, "install: run as root, or set NO_CHOWN=1 to stage an install without owners") {
		t.Errorf("unprivileged install.sh without NO_CHOWN: %s", res)
	}
	if _, err := os.Stat(filepath.Join(base, "dest")); err == nil {
		t.Errorf("the refused install wrote into DESTDIR")
	}
}
