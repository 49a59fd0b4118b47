// End-to-end test of the `make run` sandbox: scripts/run-sandbox.sh in a temporary directory, a message over SMTP, and the Maildir it lands in.

package tests

import (
	"bytes"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/postern/postern/tests/internal/harness"
)

// lockedBuffer collects a process's output while it runs.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// sandboxProcesses lists the pids of processes whose command line
// mentions dir.
func sandboxProcesses(dir string) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && bytes.Contains(cmdline, []byte(dir)) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// sandboxTail is how the delivered sandbox message must end.
var sandboxTail = regexp.MustCompile(`\nSubject: sandbox test\nMessage-Id: <\d{14}\.[0-9A-F]+@mail\.example\.test>\nDate: [^\n]+\n\nHello Bob,\nFrom the sandbox test\.\n$`)

func TestSandboxDeliversToMaildir(t *testing.T) {
	base := harness.SharedTempDir(t)
	binDir := filepath.Join(base, "bin")
	if err := os.Mkdir(binDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"postfix", "master", "smtpd", "cleanup", "qmgr", "pickup", "virtual", "anvil", "postlogd"} {
		if err := os.Symlink(harness.Bin(t, name), filepath.Join(binDir, name)); err != nil {
			t.Fatal(err)
		}
	}
	script, err := os.ReadFile(filepath.Join("..", "scripts", "run-sandbox.sh"))
	if err != nil {
		t.Fatal(err)
	}
	scriptPath := filepath.Join(base, "run-sandbox.sh")
	harness.WriteFile(t, scriptPath, string(script))
	runDir := filepath.Join(base, "run")
	asUser := harness.Unprivileged(t, base)

	port := harness.FreePort(t)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	env := append(os.Environ(), "POSTERN_RUN_DIR="+runDir, "POSTERN_BIN_DIR="+binDir, "POSTERN_RUN_PORT="+strconv.Itoa(port))
	var cred *syscall.Credential
	if asUser != "" {
		u, err := user.Lookup(asUser)
		if err != nil {
			t.Fatal(err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}
	}
	command := func(args ...string) *exec.Cmd {
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Dir, cmd.Env = base, env
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: cred}
		return cmd
	}
	// Nothing may outlive the test, whatever happens.
	t.Cleanup(func() {
		for _, pid := range sandboxProcesses(base) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	})

	sandbox := command("sh", scriptPath)
	var output lockedBuffer
	sandbox.Stdout, sandbox.Stderr = &output, &output
	if err := sandbox.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- sandbox.Wait() }()
	maillog := func() string {
		data, _ := os.ReadFile(filepath.Join(runDir, "maillog"))
		return string(data)
	}
	waitAccepting(t, "sandbox", addr, exited, 30*time.Second, 100*time.Millisecond, func() string {
		return output.String() + "\nlog:\n" + maillog()
	})
	mainCF, err := os.ReadFile(filepath.Join(runDir, "etc", "main.cf"))
	if err != nil || !strings.Contains(string(mainCF), "virtual_mailbox_base = "+filepath.Join(runDir, "mail")+"\n") {
		t.Errorf("generated main.cf (%v):\n%s", err, mainCF)
	}

	body := "From: alice@remote.example\r\nTo: bob@example.test\r\nSubject: sandbox test\r\n\r\nHello Bob,\r\nFrom the sandbox test.\r\n"
	if err := harness.SendMail(addr, "alice@remote.example", []string{"bob@example.test"}, []byte(body)); err != nil {
		t.Fatalf("SendMail: %v\nlog:\n%s", err, maillog())
	}
	newDir := filepath.Join(runDir, "mail", "bob", "new")
	var files []string
	for deadline := time.Now().Add(30 * time.Second); len(files) == 0; {
		if time.Now().After(deadline) {
			t.Fatalf("no message in %s after 30s; log:\n%s", newDir, maillog())
		}
		time.Sleep(100 * time.Millisecond)
		files, _ = filepath.Glob(filepath.Join(newDir, "*"))
	}
	if len(files) != 1 {
		t.Errorf("%s holds %d messages, want 1", newDir, len(files))
	}
	data, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	msg := string(data)
	if !strings.HasPrefix(msg, "Return-Path: <alice@remote.example>\nX-Original-To: bob@example.test\nDelivered-To: bob@example.test\nReceived: from ") {
		t.Errorf("message does not start with the delivery headers and Received:\n%s", msg)
	}
	// Maildir messages are not mbox-quoted. The client, 127.0.0.1, is an
	// inet_interfaces address (local_header_rewrite_clients), so cleanup
	// adds the missing Message-Id: and Date: as Postfix does.
	if !sandboxTail.MatchString(msg) {
		t.Errorf("message headers or body changed:\n%s", msg)
	}
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(maillog(), "status=sent (delivered to maildir)"); {
		if time.Now().After(deadline) {
			t.Fatalf("log lacks the delivery:\n%s", maillog())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if log := maillog(); !strings.Contains(log, "postfix/virtual[") || !strings.Contains(log, "to=<bob@example.test>, relay=virtual, delay=") {
		t.Errorf("delivery log line not in Postfix form:\n%s", log)
	}

	stop := command(filepath.Join(binDir, "postfix"), "-c", filepath.Join(runDir, "etc"), "stop")
	if out, err := stop.CombinedOutput(); err != nil {
		t.Errorf("postfix stop: %v\n%s", err, out)
	}
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("sandbox still runs 30s after postfix stop:\n%s", output.String())
	}
	for deadline := time.Now().Add(30 * time.Second); len(sandboxProcesses(base)) > 0; {
		if time.Now().After(deadline) {
			t.Fatalf("processes left after postfix stop: %v", sandboxProcesses(base))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestSandboxRefusesRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the check is for root")
	}
	dir := t.TempDir()
	cmd := exec.Command("sh", filepath.Join("..", "scripts", "run-sandbox.sh"))
	cmd.Env = append(os.Environ(), "POSTERN_RUN_DIR="+dir)
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "run-sandbox: run the sandbox as an ordinary user, not root") {
		t.Errorf("run-sandbox.sh as root: %v\n%s", err, out)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("run-sandbox.sh as root wrote %d entries into its directory", len(entries))
	}
}
