// Locates the real Postfix installed on the machine, or skips the test that wanted it.

package harness

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Postfix is an installed real Postfix, the oracle of differential tests.
type Postfix struct {
	Dir     string // directory of its commands, /usr/sbin by default
	Version string // mail_version, e.g. "3.7.11"
}

// Path returns the path of the real Postfix command name ("postconf",
// "postmap", ...), skipping the test when that command is not installed.
// newaliases and mailq are Postfix's sendmail acting on its argv[0], so for
// them Path returns sendmail and the caller runs it with Invocation.Arg0
// set to the name.
func (p *Postfix) Path(t testing.TB, name string) string {
	t.Helper()
	if name == "newaliases" || name == "mailq" {
		name = "sendmail"
	}
	cmd := filepath.Join(p.Dir, name)
	if !isExecutable(cmd) {
		SkipOrFail(t, fmt.Sprintf("real Postfix command %s is not installed", cmd))
	}
	return cmd
}

var (
	installedOnce sync.Once
	installed     *Postfix
	missingWhy    string // why installed is nil
)

// RealPostfix returns the installed real Postfix. When there is none (or it
// does not run) the test is skipped with the reason, or failed when
// POSTERN_REQUIRE_POSTFIX=1 says CI must have it.
func RealPostfix(t testing.TB) *Postfix {
	t.Helper()
	installedOnce.Do(findRealPostfix)
	if installed == nil {
		SkipOrFail(t, missingWhy)
	}
	return installed
}

// SkipOrFail skips the test because the real Postfix it needs is missing
// or unsuitable, or fails it when POSTERN_REQUIRE_POSTFIX=1.
func SkipOrFail(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("POSTERN_REQUIRE_POSTFIX") == "1" {
		t.Fatalf("%s (POSTERN_REQUIRE_POSTFIX=1)", why)
	}
	t.Skipf("%s; install it with `sudo sh scripts/test-deps.sh` (Debian package postfix) to run this test", why)
}

func findRealPostfix() {
	dir := os.Getenv("POSTFIX_SBIN")
	if dir == "" {
		dir = "/usr/sbin"
	}
	postconf := filepath.Join(dir, "postconf")
	if !isExecutable(postconf) {
		missingWhy = fmt.Sprintf("real Postfix not found: no executable %s", postconf)
		return
	}
	// The machine may have no /etc/postfix/main.cf ("No configuration"),
	// so ask with a configuration directory of our own.
	conf, err := os.MkdirTemp("", "postern-realpostfix-")
	if err != nil {
		missingWhy = fmt.Sprintf("real Postfix check: %v", err)
		return
	}
	defer os.RemoveAll(conf)
	if err := os.WriteFile(filepath.Join(conf, "main.cf"), nil, 0o644); err != nil {
		missingWhy = fmt.Sprintf("real Postfix check: %v", err)
		return
	}
	out, err := exec.Command(postconf, "-c", conf, "-d", "-h", "mail_version").Output()
	if err != nil {
		missingWhy = fmt.Sprintf("real Postfix %s does not run: %v", postconf, err)
		return
	}
	installed = &Postfix{Dir: dir, Version: strings.TrimSpace(string(out))}
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}
