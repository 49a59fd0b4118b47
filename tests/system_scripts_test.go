// Tests of the system integration files: scripts/postern.service parses and runs postfix as Postfix's unit does; scripts/chroot-setup fills queue_directory/etc.

package tests

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/postern/postern/tests/internal/harness"
)

// unitSettings reads a systemd unit into section -> key -> values.
func unitSettings(t *testing.T, path string) map[string]map[string][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sections := map[string]map[string][]string{}
	section := ""
	scanner := bufio.NewScanner(f)
	for n := 1; scanner.Scan(); n++ {
		line := strings.TrimSpace(scanner.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = line[1 : len(line)-1]
			sections[section] = map[string][]string{}
		default:
			key, value, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				t.Fatalf("%s:%d: not a setting in a section: %q", path, n, line)
			}
			sections[section][key] = append(sections[section][key], value)
		}
	}
	if err := scanner.Err(); err != nil {
		t.Fatal(err)
	}
	return sections
}

func TestServiceUnit(t *testing.T) {
	path := filepath.Join("..", "scripts", "postern.service")
	unit := unitSettings(t, path)
	for _, want := range []struct{ section, key, value string }{
		{"Unit", "Description", "Postern mail transport agent (Postfix-compatible)"},
		{"Service", "Type", "forking"},
		{"Service", "PIDFile", "/var/spool/postfix/pid/master.pid"},
		{"Service", "ExecStart", "/usr/sbin/postfix start"},
		{"Service", "ExecStop", "/usr/sbin/postfix stop"},
		{"Service", "ExecReload", "/usr/sbin/postfix reload"},
		{"Install", "WantedBy", "multi-user.target"},
	} {
		got := unit[want.section][want.key]
		if len(got) != 1 || got[0] != want.value {
			t.Errorf("[%s] %s = %q, want %q", want.section, want.key, got, want.value)
		}
	}
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Log("no systemd-analyze; checked the unit's structure only")
		return
	}
	// verify also checks that the programs named exist: on a machine
	// without /usr/sbin/postfix only the structure can be checked.
	if _, err := os.Stat("/usr/sbin/postfix"); err != nil {
		t.Log("no /usr/sbin/postfix; systemd-analyze verify skipped")
		return
	}
	out, err := exec.Command(analyze, "verify", path).CombinedOutput()
	if err != nil || len(out) != 0 {
		t.Errorf("systemd-analyze verify %s: %v\n%s", path, err, out)
	}
}

// chrootFiles are the /etc files chroot-setup copies, as Debian's postfix.
var chrootFiles = []string{"localtime", "services", "resolv.conf", "hosts", "host.conf", "nsswitch.conf", "nss_mdns.config"}

func runChrootSetup(t *testing.T, args ...string) harness.Result {
	t.Helper()
	return harness.Invocation{
		Path: "sh",
		Args: append([]string{filepath.Join("..", "scripts", "chroot-setup")}, args...),
		Env:  []string{"POSTCONF=" + harness.Bin(t, "postconf")},
	}.Run(t)
}

func TestChrootSetupCopiesSystemFiles(t *testing.T) {
	base := t.TempDir()
	queue := filepath.Join(base, "spool")
	if err := os.Mkdir(queue, 0o755); err != nil {
		t.Fatal(err)
	}
	config := harness.NewConfigDir(t, map[string]string{"main.cf": "queue_directory = " + queue + "\n", "master.cf": ""})
	// A stale copy is replaced.
	if err := os.Mkdir(filepath.Join(queue, "etc"), 0o700); err != nil {
		t.Fatal(err)
	}
	harness.WriteFile(t, filepath.Join(queue, "etc", "hosts"), "stale\n")

	if res := runChrootSetup(t, "-c", config); res.ExitCode != 0 || res.Stdout != "" || res.Stderr != "" {
		t.Fatalf("chroot-setup -c %s: %s", config, res)
	}
	if mode := modeOf(t, filepath.Join(queue, "etc")); mode != os.ModeDir|0o755 {
		t.Errorf("%s/etc: mode %v, want drwxr-xr-x", queue, mode)
	}
	copied := 0
	for _, name := range chrootFiles {
		source, err := os.ReadFile(filepath.Join("/etc", name))
		copyPath := filepath.Join(queue, "etc", name)
		st, statErr := os.Lstat(copyPath)
		if err != nil {
			if statErr == nil {
				t.Errorf("%s copied although /etc/%s is unreadable or absent", copyPath, name)
			}
			continue
		}
		copied++
		if statErr != nil {
			t.Errorf("/etc/%s not copied: %v", name, statErr)
			continue
		}
		if st.Mode() != 0o644 {
			t.Errorf("%s: mode %v, want -rw-r--r-- (a file, not a link)", copyPath, st.Mode())
		}
		if got, _ := os.ReadFile(copyPath); string(got) != string(source) {
			t.Errorf("%s differs from /etc/%s", copyPath, name)
		}
	}
	if copied == 0 {
		t.Fatalf("none of %v exists in /etc; nothing was tested", chrootFiles)
	}
}

func TestChrootSetupErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nowhere")
	config := harness.NewConfigDir(t, map[string]string{"main.cf": "queue_directory = " + missing + "\n", "master.cf": ""})
	for _, c := range []struct {
		name    string
		args    []string
		code    int
		message string
	}{
		{"missing queue directory", []string{"-c", config}, 1, "chroot-setup: queue directory " + missing + " does not exist; run 'postfix check' first\n"},
		{"operand", []string{"-c", config, "extra"}, 2, "usage: chroot-setup [-c config_dir]\n"},
		{"unknown option", []string{"-x"}, 2, "usage: chroot-setup [-c config_dir]\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := runChrootSetup(t, c.args...)
			if res.ExitCode != c.code || !strings.HasSuffix(res.Stderr, c.message) {
				t.Errorf("chroot-setup %v: %s\nwant exit %d and %q", c.args, res, c.code, c.message)
			}
		})
	}
	if _, err := os.Stat(missing); err == nil {
		t.Errorf("chroot-setup created %s", missing)
	}
}
