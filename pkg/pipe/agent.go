// Package pipe is the pipe(8) delivery agent: it hands a message to an
// external command (dovecot-lda, maildrop, spamc, a content filter) named
// by the service's argv= in master.cf, as the user of user=, and maps the
// command's exit status to a delivery status as Postfix does.
package pipe

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/postern/postern/pkg/addr"
	"github.com/postern/postern/pkg/agent"
	"github.com/postern/postern/pkg/command"
	"github.com/postern/postern/pkg/hbc"
	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/mailbox"
	"github.com/postern/postern/pkg/maillog"
	"github.com/postern/postern/pkg/queue"
	"github.com/postern/postern/pkg/sysexits"
)

// maxOutput bounds the command output kept for the log and the bounce.
const maxOutput = 4096

// Agent serves qmgr's delivery requests for one pipe service.
type Agent struct {
	// Watchdog is daemon_timeout: a delivery request that takes longer
	// ends the process, as Postfix's watchdog does. 0: no limit.
	Watchdog time.Duration
	Service  string // the master.cf service name: relay=, "delivered via"
	Attrs    *Attrs
	Layout   *queue.Layout
	Log      *maillog.Logger
	// MasterCF names master.cf in warnings about the service.
	MasterCF string
	// TimeLimit is $service_time_limit (command_time_limit by default).
	TimeLimit time.Duration
	// Extensions split ${user} and ${extension} (recipient_delimiter).
	Extensions addr.Extensions
	// Env is the command's environment (export_environment).
	Env []string
	// SwitchUser runs the command as Attrs.UID and Attrs.GID; it needs
	// root. Without it the command runs as this process's user.
	SwitchUser bool
}

// Serve answers delivery requests on one connection from qmgr.
func (a *Agent) Serve(ctx context.Context, nc net.Conn) {
	agent.Serve(ctx, nc, a.Log, a.Watchdog, a.Deliver)
}

// Deliver runs the command once for the request's recipients and logs
// the outcome for each.
func (a *Agent) Deliver(ctx context.Context, req *ipc.DeliveryRequest) *ipc.DeliveryResult {
	started := time.Now()
	r := a.deliver(ctx, req)
	done := time.Now()
	r.Relay = a.Service
	r.Transmission = done.Sub(started)
	result := &ipc.DeliveryResult{}
	for _, rcpt := range req.Recipients {
		rr := r
		rr.Offset, rr.Address = rcpt.Offset, rcpt.Address
		line := agent.LineFor(req.Flags)
		a.Log.Info("%s", line(req.QueueID, rcpt, rr, agent.RequestDelays(req, started, done)))
		result.Recipients = append(result.Recipients, rr)
	}
	return result
}

func deferred(dsn, text string) ipc.RecipientResult {
	return ipc.RecipientResult{Status: ipc.StatusDeferred, DSNCode: dsn, Reply: text}
}

func bounced(dsn, text string) ipc.RecipientResult {
	return ipc.RecipientResult{Status: ipc.StatusBounced, DSNCode: dsn, Reply: text}
}

func configError() ipc.RecipientResult { return deferred("4.3.5", "mail system configuration error") }

func (a *Agent) deliver(ctx context.Context, req *ipc.DeliveryRequest) ipc.RecipientResult {
	at := a.Attrs
	if len(req.Recipients) > 1 {
		for _, f := range []struct {
			on     bool
			letter string
		}{{at.Flags.Delivered, "D"}, {at.Flags.OrigRcpt, "O"}} {
			if f.on {
				a.Log.Warning("pipe flag `%s' requires %s_destination_recipient_limit = 1", f.letter, a.Service)
				return configError()
			}
		}
	}
	if at.SizeLimit > 0 && req.DataSize > at.SizeLimit {
		return bounced("5.2.3", "message too large")
	}
	msg, err := a.Layout.Load(req.Queue, req.QueueID, func(w string) { a.Log.Warning("%s", w) })
	if err != nil {
		a.Log.Warning("%s: %v", req.QueueID, err)
		return deferred("4.3.0", "cannot read queue file")
	}
	if at.Flags.Delivered {
		loop, err := a.deliveredTo(msg, req.Recipients[0].Address)
		if err != nil {
			a.Log.Warning("%s: %v", req.QueueID, err)
			return deferred("4.3.0", "cannot read queue file")
		}
		if loop {
			return bounced("5.4.6", "mail forwarding loop for "+req.Recipients[0].Address)
		}
	}
	sender := req.Sender
	if sender == "" {
		sender = at.NullSender
	}
	argv, err := expandArgv(at.Argv, a.messageMacros(req, msg, sender), a.recipientMacros(req))
	if err != nil {
		a.Log.Warning("file %s: service %s: %v", a.MasterCF, a.Service, err)
		return configError()
	}
	if req.Flags&ipc.DeliveryFlagVerify != 0 {
		return ipc.RecipientResult{Status: ipc.StatusSent, DSNCode: "2.0.0", Reply: "delivers to command: " + argv[0]}
	}
	content, err := queue.OpenContent(msg.Path, msg.Size.DataOffset)
	if err != nil {
		a.Log.Warning("%s: %v", req.QueueID, err)
		return deferred("4.3.0", "cannot read queue file")
	}
	defer content.Close()
	stdin := a.stdin(sender, req.Recipients[0], content)
	res := a.run(ctx, argv, stdin)
	if res.Status == ipc.StatusSent {
		// As Postfix's pipe: a success notice says "relayed" unless
		// flags=X declares the command the final delivery.
		if !at.Flags.Final {
			res.Action = "relayed"
		}
		text := "delivered via " + a.Service + " service"
		if out := strings.TrimSpace(res.Reply); out != "" {
			if len(out) > 100 {
				out = out[:100]
			}
			text += " (" + out + ")"
		}
		res.Reply = text
	}
	return res
}

// messageMacros are the macros that are the same for every recipient.
func (a *Agent) messageMacros(req *ipc.DeliveryRequest, msg *queue.Message, sender string) map[string]string {
	f := a.Attrs.Flags
	attr := func(name string) string { v, _ := msg.Attr(name); return v }
	if f.QuoteLocal && sender != "" {
		sender = addr.Split(sender).String()
	}
	nexthop := req.Nexthop
	if f.FoldHost {
		nexthop = strings.ToLower(nexthop)
	}
	m := map[string]string{
		"sender": sender, "nexthop": nexthop, "size": strconv.FormatInt(req.DataSize, 10),
		"queue_id": req.QueueID, "envid": req.DSNEnvID,
		"client_address": attr(queue.AttrClientAddr), "client_helo": attr(queue.AttrHelo),
		"client_hostname": attr(queue.AttrClientName), "client_port": attr("client_port"),
		"client_protocol": attr(queue.AttrProtocol), "sasl_method": attr("sasl_method"),
		"sasl_sender": attr("sasl_sender"), "sasl_username": attr("sasl_username"),
	}
	for _, name := range messageMacros {
		if _, ok := m[name]; !ok {
			m[name] = ""
		}
	}
	return m
}

func (a *Agent) recipientMacros(req *ipc.DeliveryRequest) []map[string]string {
	var out []map[string]string
	for _, r := range req.Recipients {
		out = append(out, recipientValues(Recipient{Address: r.Address, Original: r.OriginalRecipient}, a.Attrs.Flags, a.Extensions))
	}
	return out
}

// deliveredTo reports whether the message already has a Delivered-To:
// header for rcpt: a mail forwarding loop.
func (a *Agent) deliveredTo(msg *queue.Message, rcpt string) (bool, error) {
	content, err := queue.OpenContent(msg.Path, msg.Size.DataOffset)
	if err != nil {
		return false, err
	}
	defer content.Close()
	br := bufio.NewReader(content)
	for {
		line, err := br.ReadString('\n')
		line = strings.TrimRight(line, "\r\n")
		if line == "" {
			return false, nil
		}
		if name, value, ok := strings.Cut(line, ":"); ok && strings.EqualFold(strings.TrimSpace(name), "delivered-to") &&
			strings.EqualFold(strings.TrimSpace(value), rcpt) {
			return true, nil
		}
		if err != nil {
			return false, nil
		}
	}
}

// stdin is the message as the command reads it: the envelope lines the
// flags ask for, then the content with the line ends and quoting asked.
func (a *Agent) stdin(sender string, rcpt ipc.Recipient, content io.Reader) io.Reader {
	f, eol := a.Attrs.Flags, a.Attrs.EOL
	var prefix strings.Builder
	if f.FromLine {
		prefix.WriteString(strings.TrimSuffix(mailbox.FromLine(sender, time.Now()), "\n") + eol)
	}
	if f.ReturnPath {
		prefix.WriteString("Return-Path: <" + sender + ">" + eol)
	}
	if f.OrigRcpt {
		orig := rcpt.OriginalRecipient
		if orig == "" {
			orig = rcpt.Address
		}
		prefix.WriteString("X-Original-To: " + orig + eol)
	}
	if f.Delivered {
		prefix.WriteString("Delivered-To: " + strings.ToLower(rcpt.Address) + eol)
	}
	pr, pw := io.Pipe()
	go func() {
		bw := bufio.NewWriter(pw)
		bw.WriteString(prefix.String())
		br := bufio.NewReader(content)
		for {
			line, err := br.ReadBytes('\n')
			if len(line) > 0 {
				line = bytes.TrimSuffix(line, []byte("\n"))
				if f.DotStuff && len(line) > 0 && line[0] == '.' {
					bw.WriteByte('.')
				}
				if f.QuoteFrom && bytes.HasPrefix(line, []byte("From ")) {
					bw.WriteByte('>')
				}
				bw.Write(line)
				bw.WriteString(eol)
			}
			if err != nil {
				if !errors.Is(err, io.EOF) {
					pw.CloseWithError(err)
					return
				}
				break
			}
		}
		if f.BlankLine {
			bw.WriteString(eol)
		}
		pw.CloseWithError(bw.Flush())
	}()
	return pr
}

// run executes argv in its own process group, as the service's user
// when SwitchUser is set, kills the whole group at the time limit (see
// pkg/command), and maps the outcome as Postfix's pipe_command does. A
// successful result carries the command output in Reply.
func (a *Agent) run(ctx context.Context, argv []string, stdin io.Reader) ipc.RecipientResult {
	spec := command.Spec{Argv: argv, Env: a.Env, Dir: a.Attrs.Directory, Stdin: stdin, TimeLimit: a.TimeLimit}
	if a.SwitchUser {
		spec.Credential = &syscall.Credential{Uid: uint32(a.Attrs.UID), Gid: uint32(a.Attrs.GID), Groups: []uint32{}}
	}
	output := &command.Output{Max: maxOutput}
	spec.Stdout, spec.Stderr = output, output
	cmd := argv[0]
	res := command.Run(ctx, spec)
	if res.PID == 0 && res.Err != nil {
		text := fmt.Sprintf("cannot run command %q: %v", cmd, res.Err)
		if a.Attrs.Directory != "" {
			if _, serr := os.Stat(a.Attrs.Directory); serr != nil {
				text = fmt.Sprintf("chdir %s: %v", a.Attrs.Directory, serr)
			}
		}
		return deferred("4.3.0", text)
	}
	out := output.Text()
	withOutput := func(text string) string {
		if out == "" {
			return text
		}
		return text + ". Command output: " + out
	}
	switch {
	case res.TimedOut:
		return bounced("5.3.0", withOutput(fmt.Sprintf("Command time limit exceeded: %q", cmd)))
	case res.Normal():
		return ipc.RecipientResult{Status: ipc.StatusSent, DSNCode: "2.0.0", Reply: out}
	case res.Err != nil:
		return deferred("4.3.0", fmt.Sprintf("cannot run command %q: %v", cmd, res.Err))
	case res.Status.Signaled():
		return deferred("4.3.0", withOutput(fmt.Sprintf("Command died with signal %d: %q", int(res.Status.Signal()), cmd)))
	}
	ws := res.Status
	// A command may say what failed as "D.S.N text".
	if code, text, ok := strings.Cut(out, " "); ok && hbc.PrependDSN("x", out) == out && (code[0] == '4' || code[0] == '5') {
		if code[0] == '4' {
			return deferred(code, text)
		}
		return bounced(code, text)
	}
	if d, ok := sysexits.Lookup(ws.ExitStatus()); ok {
		if d.Temporary {
			return deferred(d.DSN, withOutput(d.Text))
		}
		return bounced(d.DSN, withOutput(d.Text))
	}
	return bounced(sysexits.Software().DSN, withOutput(fmt.Sprintf("Command died with status %d: %q", ws.ExitStatus(), cmd)))
}
