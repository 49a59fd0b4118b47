// End-to-end test of cleanup's reserved queue files (pkg/queue/pool.go)
// when cleanup is killed with SIGKILL while mail flows.

package tests

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/postern/postern/pkg/queue"
)

// reservedSenders is how many clients send at once. A cleanup that holds
// more uncommitted files in incoming/ than there are messages under way
// holds reserved ones.
const reservedSenders = 4

// TestReceiveCleanupKilledWithReservedFiles keeps mail flowing until
// cleanup has named reserved files in incoming/ ahead of need, freezes
// every cleanup (SIGSTOP) to take the list of uncommitted files, and kills
// them (SIGKILL). Then: postqueue -p lists none of those files; postsuper
// -p or the next cleanup removes every one, logging it; once mail stops
// no uncommitted file is left; every acknowledged message is one committed
// queue file, under its queue ID, and no message is queued twice; and the
// queue listing and postsuper -d ALL count exactly the committed files.
func TestReceiveCleanupKilledWithReservedFiles(t *testing.T) {
	in := startSmtpd(t)
	load := startReservedLoad(t, in.addr)

	frozen, abandoned := in.freezeWithReservedFiles(t)
	close(load.stop)
	for _, pid := range frozen {
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && err != syscall.ESRCH {
			t.Fatalf("kill -9 cleanup %d: %v", pid, err)
		}
		if !daemonGone(pid, 30*time.Second) {
			t.Fatalf("cleanup %d still running after kill -9", pid)
		}
	}
	load.wg.Wait()
	t.Logf("%d uncommitted files of %d killed cleanup processes, %d messages acknowledged", len(abandoned), len(frozen), len(load.acked))
	if load.failure != "" {
		t.Fatalf("a message was refused: %s\nlog:\n%s", load.failure, in.log())
	}

	// Never committed, the killed processes' files are not mail.
	listing := in.queueCommand("postqueue", "-p")
	for id := range abandoned {
		if strings.Contains(listing.Stdout, id) {
			t.Errorf("postqueue -p lists the abandoned file %s:\n%s", id, listing.Stdout)
		}
	}
	// Removed by postsuper -p, unless a cleanup master started meanwhile
	// removed them first; each removal is logged.
	purge := in.queueCommand("postsuper", "-p")
	if purge.ExitCode != 0 {
		t.Fatalf("postsuper -p: %s", purge)
	}
	for id := range abandoned {
		if _, err := os.Stat(abandoned[id]); err == nil {
			t.Errorf("incoming/%s is still there after postsuper -p", id)
		}
	}
	// A file killed before its rename to a queue ID is named tmp.PID.N.
	purged := regexp.MustCompile(`([0-9A-Za-z.]+): removed incomplete queue file (?:from incoming|of an interrupted submission)`)
	in.waitLogFor(t, "the removal of every abandoned file", func(log string) bool {
		logged := map[string]bool{}
		for _, m := range purged.FindAllStringSubmatch(purge.Stderr+log, -1) {
			logged[m[1]] = true
		}
		for id := range abandoned {
			if !logged[id] {
				return false
			}
		}
		return true
	})

	// A new cleanup takes mail; reserved files of a live cleanup go back
	// to spare/ once mail stops.
	lastID := sendWithRetry(t, in, "after the kill")
	deadline := time.Now().Add(30 * time.Second)
	for len(in.uncommittedFiles()) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("incoming/ still holds uncommitted files %v after mail stopped\nlog:\n%s", in.uncommittedFiles(), in.log())
		}
		time.Sleep(50 * time.Millisecond)
	}

	queued := in.committedSubjects(t)
	load.acked[lastID] = "after the kill"
	for id, subject := range load.acked {
		if got := queued[id]; got != subject {
			t.Errorf("acknowledged %s (%q) is queued as %q", id, subject, got)
		}
	}
	seen := map[string]string{}
	for id, subject := range queued {
		if subject == "notice" {
			continue
		}
		if other, ok := seen[subject]; ok {
			t.Errorf("%q is queued twice, as %s and %s", subject, other, id)
		}
		seen[subject] = id
		if !load.tried[subject] && subject != "after the kill" {
			t.Errorf("%s holds %q, which no client sent", id, subject)
		}
	}
	if len(load.acked) <= reservedSenders {
		t.Errorf("only %d messages acknowledged", len(load.acked))
	}
	want := fmt.Sprintf(" in %d Requests.\n", len(queued))
	if res := in.queueCommand("postqueue", "-p"); res.ExitCode != 0 || !strings.HasSuffix(res.Stdout, want) {
		t.Errorf("postqueue -p does not end with %q: %s", want, res)
	}
	want = fmt.Sprintf("postsuper: Deleted: %d messages\n", len(queued))
	if res := in.queueCommand("postsuper", "-d", "ALL"); res.ExitCode != 0 || res.Stderr != want {
		out, _ := exec.Command("find", in.queue, "-type", "f", "-printf", "%p %m %s\n").CombinedOutput()
		t.Errorf("postsuper -d ALL: %s\nwant stderr %q\n%s", res, want, out)
	}
}

// reservedLoad is reservedSenders clients sending one message after
// another, each with a subject of its own, until stopped.
type reservedLoad struct {
	stop chan struct{}
	wg   sync.WaitGroup
	mu   sync.Mutex
	// acked maps the queue ID of each "250 queued" to its subject;
	// tried holds every subject sent, acknowledged or not; failure is
	// the first reply that was neither.
	acked   map[string]string
	tried   map[string]bool
	failure string
}

// startReservedLoad starts the clients. Each sends at most 1,000
// messages and stops after two minutes, stopped or not.
func startReservedLoad(t *testing.T, addr string) *reservedLoad {
	l := &reservedLoad{stop: make(chan struct{}), acked: map[string]string{}, tried: map[string]bool{}}
	deadline := time.Now().Add(2 * time.Minute)
	for g := range reservedSenders {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for i := 0; i < 1000 && time.Now().Before(deadline); i++ {
				select {
				case <-l.stop:
					return
				default:
				}
				// A message that was not acknowledged is not sent again:
				// it may have been queued all the same.
				subject := fmt.Sprintf("reserved %d-%d", g, i)
				l.mu.Lock()
				l.tried[subject] = true
				l.mu.Unlock()
				last, _ := sendOnce(addr, subject)
				l.mu.Lock()
				if id, ok := strings.CutPrefix(last, "250 2.0.0 Ok: queued as "); ok {
					l.acked[id] = subject
				} else if last != "" && !strings.HasPrefix(last, "4") && l.failure == "" {
					l.failure = fmt.Sprintf("%q: %q", subject, last)
				}
				l.mu.Unlock()
				if !strings.HasPrefix(last, "250 ") {
					time.Sleep(20 * time.Millisecond)
				}
			}
		}()
	}
	// A test that fails before it stops them.
	t.Cleanup(func() {
		select {
		case <-l.stop:
		default:
			close(l.stop)
		}
		l.wg.Wait()
	})
	return l
}

// freezeWithReservedFiles waits until the cleanup daemons hold more
// uncommitted files in incoming/ than there are clients, then stops every
// cleanup with SIGSTOP and returns their PIDs and the uncommitted files
// (ID → path), all theirs: a file of a cleanup started after the PIDs were
// taken makes it let them go on and try again.
func (in *smtpdRun) freezeWithReservedFiles(t *testing.T) ([]int, map[string]string) {
	t.Helper()
	signal := func(pids []int, sig syscall.Signal) {
		for _, pid := range pids {
			syscall.Kill(pid, sig)
		}
	}
	deadline := time.Now().Add(90 * time.Second)
	for ; ; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("cleanup never held more than %d uncommitted files in incoming/: no reserved files\nlog:\n%s", reservedSenders, in.log())
		}
		if len(in.uncommittedFiles()) <= reservedSenders {
			continue
		}
		pids := findDaemonsOf(in.masterPID, "cleanup")
		signal(pids, syscall.SIGSTOP)
		// Killed at the end of the test if it fails before the kill.
		t.Cleanup(func() { signal(pids, syscall.SIGKILL) })
		// A thread stops once its system call is done: a chmod to 0700
		// under way still commits its file.
		for _, pid := range pids {
			waitAllThreadsStopped(t, pid)
		}
		files := in.uncommittedFiles()
		later := slices.DeleteFunc(findDaemonsOf(in.masterPID, "cleanup"), func(pid int) bool { return slices.Contains(pids, pid) })
		if len(files) > reservedSenders && len(later) == 0 && len(pids) > 0 {
			return pids, files
		}
		signal(pids, syscall.SIGCONT)
	}
}

// waitAllThreadsStopped waits, for at most 30 seconds, until every thread
// of pid is stopped (state T), or pid is gone.
func waitAllThreadsStopped(t *testing.T, pid int) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
		if err != nil {
			return
		}
		stopped := true
		for _, task := range tasks {
			stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/stat", pid, task.Name()))
			if err != nil {
				continue // the thread ended
			}
			// tid (comm) state ...
			if state := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:])); len(state) > 0 && state[0] != "T" && state[0] != "t" {
				stopped = false
				break
			}
		}
		if stopped {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d has threads still running 30s after SIGSTOP", pid)
		}
	}
}

// uncommittedFiles maps the ID of each file in incoming/ that is not
// committed (mode 0700) to its path.
func (in *smtpdRun) uncommittedFiles() map[string]string {
	out := map[string]string{}
	filepath.WalkDir(in.incomingDir(), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		if info, err := d.Info(); err == nil && !queue.ModeReady(info.Mode()) {
			out[d.Name()] = path
		}
		return nil
	})
	return out
}

// committedSubjects maps the ID of each file in incoming/ to the subject
// of its message, one that TestReceiveCleanupKilledWithReservedFiles
// sends.
func (in *smtpdRun) committedSubjects(t *testing.T) map[string]string {
	t.Helper()
	subject := regexp.MustCompile(`Subject: (reserved \d+-\d+|after the kill)`)
	out := map[string]string{}
	filepath.WalkDir(in.incomingDir(), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("read incoming/%s: %v", d.Name(), err)
			return nil
		}
		switch m := subject.FindSubmatch(data); {
		case m != nil:
			out[d.Name()] = string(m[1])
		case bytes.Contains(data, []byte("double-bounce@")):
			// smtpd's notice to the postmaster of the 451 it gave when
			// cleanup died (notify_classes: software).
			out[d.Name()] = "notice"
		default:
			t.Errorf("incoming/%s holds no message of the test", d.Name())
		}
		return nil
	})
	return out
}

// waitLogFor waits, for at most 30 seconds, until cond holds for the
// instance's log.
func (in *smtpdRun) waitLogFor(t *testing.T, what string, cond func(log string) bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(in.log()); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no log of %s after 30s:\n%s", what, in.log())
		}
	}
}
