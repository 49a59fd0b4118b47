// Delivery to |command: /bin/sh -c with the owner's credentials, the exit status mapped as sysexits(3) says.

package local

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/postern/postern/pkg/command"
	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/mailbox"
	"github.com/postern/postern/pkg/sysexits"
)

// maxCommandOutput bounds the command output quoted in a failure text.
const maxCommandOutput = 200

// maxCapturedOutput bounds the command output kept in memory; the rest
// is read and dropped.
const maxCapturedOutput = 4096

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
// leads its own process group; at the time limit the whole group is
// killed (see pkg/command). Its output is kept up to maxCapturedOutput.
func runCommand(ctx context.Context, cmd string, u *User, privileged bool, env []string, limit time.Duration, stdin io.Reader) ipc.RecipientResult {
	spec := command.Spec{Argv: []string{"/bin/sh", "-c", cmd}, Env: env, Dir: "/", Stdin: stdin, TimeLimit: limit}
	if st, err := os.Stat(u.Home); err == nil && st.IsDir() {
		spec.Dir = u.Home
	}
	if privileged {
		spec.Credential = u.Credential()
	}
	output := &command.Output{Max: maxCapturedOutput}
	spec.Stdout, spec.Stderr = output, output
	res := command.Run(ctx, spec)
	if res.Normal() {
		return sent("")
	}
	detail := output.Text()
	if len(detail) > maxCommandOutput {
		detail = detail[:maxCommandOutput]
	}
	withOutput := func(text string) string {
		if detail == "" {
			return text
		}
		return text + ". Command output: " + detail
	}
	switch {
	case res.TimedOut:
		return deferred("4.3.0", withOutput(fmt.Sprintf("command time limit exceeded: %q", cmd)))
	case res.Err != nil:
		return deferred("4.3.0", fmt.Sprintf("cannot run command %q: %v", cmd, res.Err))
	case res.Status.Signaled():
		return deferred("4.3.0", withOutput(fmt.Sprintf("Command died with signal %d: %q", int(res.Status.Signal()), cmd)))
	}
	if se, ok := sysexits.Lookup(res.Status.ExitStatus()); ok {
		if se.Temporary {
			return deferred(se.DSN, withOutput(se.Text))
		}
		return bounced(se.DSN, withOutput(se.Text))
	}
	return bounced("5.3.0", withOutput(fmt.Sprintf("Command died with status %d: %q", res.Status.ExitStatus(), cmd)))
}
