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
)

// commandTimeLimit is Postfix's command_time_limit default.
const commandTimeLimit = 1000 * time.Second

// maxCommandOutput bounds the command output quoted in a failure text.
const maxCommandOutput = 200

// sysexit is the meaning of a sysexits(3) exit status.
type sysexit struct {
	dsn, text string
	temporary bool
}

// sysexits are the exit statuses a command can use to say what failed.
var sysexits = map[int]sysexit{
	64: {"5.3.0", "command line usage error", false},
	65: {"5.6.0", "data format error", false},
	66: {"5.3.0", "cannot open input", false},
	67: {"5.1.1", "user unknown", false},
	68: {"5.1.2", "host name unknown", false},
	69: {"5.3.0", "service unavailable", false},
	70: {"5.3.0", "internal software error", false},
	71: {"4.3.0", "system resource problem", true},
	72: {"5.3.0", "critical OS file missing", false},
	73: {"5.2.0", "can't create user output file", false},
	74: {"5.3.0", "input/output error", false},
	75: {"4.3.0", "temporary failure", true},
	76: {"5.5.0", "remote error in protocol", false},
	77: {"5.7.0", "permission denied", false},
	78: {"5.3.5", "local configuration error", false},
}

// command pipes the message to cmd run by /bin/sh as the owner of the
// alias or .forward that named it.
func (d *delivery) command(from origin, cmd, sender string) {
	to := from.addr
	u := from.owner
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
	msg := mailbox.Message{Sender: sender, Recipient: from.addr, OriginalRecipient: d.original(), Time: time.Now()}
	prefix := mailbox.FromLine(sender, msg.Time) + msg.Headers()
	localPart, domain := splitAddress(from.addr)
	_, ext := splitExtension(localPart, d.agent.Settings.RecipientDelimiter)
	env := []string{
		"PATH=/usr/bin:/bin", "SHELL=" + u.Shell, "HOME=" + u.Home, "LOGNAME=" + u.Name, "USER=" + u.Name,
		"SENDER=" + sender, "RECIPIENT=" + from.addr, "LOCAL=" + localPart, "DOMAIN=" + domain,
		"EXTENSION=" + ext, "ORIGINAL_RECIPIENT=" + d.original(),
	}
	res := runCommand(d.ctx, cmd, u, d.agent.Privileged, env, io.MultiReader(strings.NewReader(prefix), content))
	if res.Status == ipc.StatusSent {
		res.Reply = text
	}
	d.add(to, res)
}

// runCommand runs cmd with /bin/sh -c, as u when privileged, feeding it
// stdin, and maps its exit status to a delivery result.
func runCommand(ctx context.Context, cmd string, u *User, privileged bool, env []string, stdin io.Reader) ipc.RecipientResult {
	ctx, cancel := context.WithTimeout(ctx, commandTimeLimit)
	defer cancel()
	c := exec.CommandContext(ctx, "/bin/sh", "-c", cmd)
	c.Env = env
	c.Dir = "/"
	if st, err := os.Stat(u.Home); err == nil && st.IsDir() {
		c.Dir = u.Home
	}
	if privileged {
		c.SysProcAttr = &syscall.SysProcAttr{Credential: u.Credential(), Setsid: true}
	}
	c.Stdin = stdin
	var output bytes.Buffer
	c.Stdout, c.Stderr = &output, &output
	err := c.Run()
	if err == nil {
		return sent("")
	}
	detail := strings.Join(strings.Fields(output.String()), " ")
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
	if se, ok := sysexits[ws.ExitStatus()]; ok {
		if se.temporary {
			return deferred(se.dsn, withOutput(se.text))
		}
		return bounced(se.dsn, withOutput(se.text))
	}
	return bounced("5.3.0", withOutput(fmt.Sprintf("Command died with status %d: %q", ws.ExitStatus(), cmd)))
}
