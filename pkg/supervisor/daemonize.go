// Running master in the background: `master -w` re-executes itself in a new session and waits until the real master has started.

package supervisor

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// notifyFDVariable names the environment variable that tells a background
// master which descriptor to report its start-up on.
const notifyFDVariable = "POSTERN_MASTER_NOTIFY_FD"

// startedMessage is what the background master writes once it runs.
const startedMessage = "started\n"

// startWait bounds how long `master -w` waits for the background master.
const startWait = 60 * time.Second

// ErrMasterDied is StartBackground's error when the background master
// exited during start-up; it has logged why.
var ErrMasterDied = errors.New("master exited before it started")

// StartBackground runs program with args in a new session (detached from
// the terminal) and returns once it called NotifyStarted, or an error when
// it exited (or hung) before. The background master shares stderr until
// then, so that its fatal start-up errors reach the caller.
func StartBackground(program string, args []string, stderr *os.File) error {
	readR, readW, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("pipe: %w", err)
	}
	defer readR.Close()
	cmd := exec.Command(program, args...)
	// The name master was run by, not the file it resolves to: the
	// multi-call binary (postern/main.go) tells by its name which program
	// it is.
	cmd.Args[0] = os.Args[0]
	cmd.Env = append(os.Environ(), notifyFDVariable+"=3")
	cmd.ExtraFiles = []*os.File{readW}
	cmd.Stderr = stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = cmd.Start()
	readW.Close()
	if err != nil {
		return fmt.Errorf("exec %s: %w", program, err)
	}
	result := make(chan error, 1)
	go func() {
		buf := make([]byte, len(startedMessage))
		_, err := io.ReadFull(readR, buf)
		if err == nil && string(buf) == startedMessage {
			result <- nil
			return
		}
		result <- ErrMasterDied
	}()
	select {
	case err := <-result:
		if err != nil {
			cmd.Wait()
			return err
		}
		go cmd.Wait() // reap nothing more: the master lives on
		return nil
	case <-time.After(startWait):
		return fmt.Errorf("master did not start within %v", startWait)
	}
}

// Notifier is the background master's side of StartBackground.
type Notifier struct{ file *os.File }

// BackgroundNotifier returns the Notifier a master started by
// StartBackground reports to, or nil for a master started otherwise.
// The descriptor is kept from the daemons master starts.
func BackgroundNotifier() *Notifier {
	fd, err := strconv.Atoi(os.Getenv(notifyFDVariable))
	os.Unsetenv(notifyFDVariable)
	if err != nil || fd < 3 {
		return nil
	}
	unix.CloseOnExec(fd)
	return &Notifier{file: os.NewFile(uintptr(fd), "master-notify")}
}

// NotifyStarted detaches standard input, output and error (to /dev/null)
// and tells the waiting `master -w` that start-up succeeded.
func (n *Notifier) NotifyStarted() error {
	if err := DetachStdio(); err != nil {
		return err
	}
	_, err := io.WriteString(n.file, startedMessage)
	n.file.Close()
	return err
}

// DetachStdio points standard input, output and error at /dev/null.
func DetachStdio() error {
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", os.DevNull, err)
	}
	defer null.Close()
	for fd := 0; fd < 3; fd++ {
		if err := unix.Dup2(int(null.Fd()), fd); err != nil {
			return fmt.Errorf("dup2 %s: %w", os.DevNull, err)
		}
	}
	return nil
}
