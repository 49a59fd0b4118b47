// Delivery to |command: /bin/sh -c with the owner's credentials, the exit status mapped as sysexits(3) says.

package local

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/mailbox"
	"github.com/postern/postern/pkg/sysexits"
)

// commandTimeLimit is Postfix's command_time_limit default.
const commandTimeLimit = 1000 * time.Second

// maxCommandOutput bounds the command output quoted in a failure text.
const maxCommandOutput = 200

// maxCapturedOutput bounds the command output kept in memory; the rest
// is read and dropped.
const maxCapturedOutput = 4096

// outputGrace is how long a finished command's output pipe may stay open.
const outputGrace = 5 * time.Second

// boundedBuffer keeps the first max bytes written to it and drops the
// rest, reporting every write as complete so the writer is not stopped.
type boundedBuffer struct {
	buf bytes.Buffer
	max int
}

func (b *boundedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

// command pipes the message to cmd run by /bin/sh as the owner of the
// alias or .forward that named it.
func (d *delivery) command(from origin, cmd, sender string) {
	to := from.addr
	u, ok := d.withoutRoot(to, from.owner)
	if !ok {
		return
	}
	if u != nil && !d.firstTime(fmt.Sprintf("command:%d:%s", u.UID, cmd)) {
		return
	}
	if !d.mayRunAs(to, u) {
		return
	}
	text := "delivered to command: " + cmd
	if d.verify {
		d.add(to, sent(strings.Replace(text, "delivered", "delivers", 1)))
		return
	}
	content, err := d.open()
	if err != nil {
		d.add(to, deferred("4.3.0", fmt.Sprintf("error reading message content: %v", err)))
		return
	}
	defer content.Close()
	msg := mailbox.Message{Sender: sender, Recipient: d.deliveredToHeader(from.addr), OriginalRecipient: d.original(), Time: time.Now()}
	prefix := mailbox.FromLine(sender, msg.Time) + msg.Headers()
	env := d.commandEnv(from.addr, u, sender)
	res := runCommand(d.ctx, cmd, u, d.agent.Privileged, env, d.agent.Settings.CommandTimeLimit, io.MultiReader(strings.NewReader(prefix), content))
	if res.Status == ipc.StatusSent {
		res.Reply = text
	}
	d.add(to, res)
}

// runCommand runs cmd with /bin/sh -c, as u when privileged, feeding it
// stdin, and maps its exit status to a delivery result. The command
// leads its own process group (a new session); at the time limit the
// whole group is killed, so a child it left in the background cannot
// keep the delivery open. Its output is kept up to maxCapturedOutput.
func runCommand(ctx context.Context, cmd string, u *User, privileged bool, env []string, limit time.Duration, stdin io.Reader) ipc.RecipientResult {
	if limit <= 0 {
		limit = commandTimeLimit
	}
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	c := exec.CommandContext(ctx, "/bin/sh", "-c", cmd)
	c.Env = env
	c.Dir = "/"
	if st, err := os.Stat(u.Home); err == nil && st.IsDir() {
		c.Dir = u.Home
	}
	c.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if privileged {
		c.SysProcAttr.Credential = u.Credential()
	}
	c.Cancel = func() error { return syscall.Kill(-c.Process.Pid, syscall.SIGKILL) }
	// A descendant that escaped the group may still hold the output
	// pipe: stop waiting for it shortly after the command ends.
	c.WaitDelay = outputGrace
	c.Stdin = stdin
	output := &boundedBuffer{max: maxCapturedOutput}
	c.Stdout, c.Stderr = output, output
	err := c.Run()
	if errors.Is(err, exec.ErrWaitDelay) {
		err = nil
	}
	if err == nil && ctx.Err() == nil {
		return sent("")
	}
	if err == nil {
		err = ctx.Err()
	}
	detail := strings.Join(strings.Fields(output.buf.String()), " ")
	if len(detail) > maxCommandOutput {
		detail = detail[:maxCommandOutput]
	}
	withOutput := func(text string) string {
		if detail == "" {
			return text
		}
		return text + ". Command output: " + detail
	}
	if ctx.Err() == context.DeadlineExceeded {
		return deferred("4.3.0", withOutput(fmt.Sprintf("command time limit exceeded: %q", cmd)))
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		return deferred("4.3.0", fmt.Sprintf("cannot run command %q: %v", cmd, err))
	}
	ws, _ := exit.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		return deferred("4.3.0", withOutput(fmt.Sprintf("Command died with signal %d: %q", int(ws.Signal()), cmd)))
	}
	if se, ok := sysexits.Lookup(ws.ExitStatus()); ok {
		if se.Temporary {
			return deferred(se.DSN, withOutput(se.Text))
		}
		return bounced(se.DSN, withOutput(se.Text))
	}
	return bounced("5.3.0", withOutput(fmt.Sprintf("Command died with status %d: %q", ws.ExitStatus(), cmd)))
}
