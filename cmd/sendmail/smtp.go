// sendmail -bs: a minimal SMTP dialogue on standard input and output that queues through maildrop/.

package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"

	"github.com/postern/postern/pkg/addr"
	"github.com/postern/postern/pkg/maildrop"
	"github.com/postern/postern/pkg/queue/cli"
	"github.com/postern/postern/pkg/sysexits"
)

// maxCommandLine is Postfix's line_length_limit for SMTP commands.
const maxCommandLine = 2048

// smtpSession is one -bs dialogue.
type smtpSession struct {
	tool     *cli.Tool
	opts     *options
	in       *bufio.Reader
	out      *bufio.Writer
	hostname string
	sub      *maildrop.Submission
}

// serveSMTP speaks SMTP on in and out until QUIT or end of input, and
// returns the exit status.
func serveSMTP(tool *cli.Tool, opts *options, in io.Reader, out io.Writer) int {
	hostname, err := tool.Config.Get("myhostname")
	if err != nil {
		return tool.Fatal(sysexits.TempFail, "%v", err)
	}
	banner, err := tool.Config.Get("smtpd_banner")
	if err != nil {
		return tool.Fatal(sysexits.TempFail, "%v", err)
	}
	s := &smtpSession{tool: tool, opts: opts, in: bufio.NewReaderSize(in, 64<<10), out: bufio.NewWriter(out), hostname: hostname}
	s.reply("220 " + banner)
	for {
		line, err := s.readLine()
		if err != nil {
			return cli.ExitOK
		}
		verb, arg, _ := strings.Cut(line, " ")
		if !s.command(strings.ToUpper(verb), strings.TrimSpace(arg)) {
			return cli.ExitOK
		}
	}
}

// readLine reads one command line without its CRLF, cut at the limit.
func (s *smtpSession) readLine() (string, error) {
	if err := s.out.Flush(); err != nil {
		return "", err
	}
	var line []byte
	for {
		part, err := s.in.ReadSlice('\n')
		if len(line) < maxCommandLine {
			line = append(line, part...)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err != nil && len(line) == 0 {
			return "", err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) > maxCommandLine {
			line = line[:maxCommandLine]
		}
		return string(line), nil
	}
}

func (s *smtpSession) reply(text string) {
	s.out.WriteString(text + "\r\n")
}

// command runs one SMTP command; false ends the session.
func (s *smtpSession) command(verb, arg string) bool {
	switch verb {
	case "HELO":
		if arg == "" {
			s.reply("501 Syntax: HELO hostname")
			break
		}
		s.sub = nil
		s.reply("250 " + s.hostname)
	case "EHLO":
		if arg == "" {
			s.reply("501 Syntax: EHLO hostname")
			break
		}
		s.sub = nil
		s.reply("250-" + s.hostname + "\r\n250-PIPELINING\r\n250-ENHANCEDSTATUSCODES\r\n250 8BITMIME")
	case "MAIL":
		s.mail(arg)
	case "RCPT":
		s.rcpt(arg)
	case "DATA":
		s.data()
	case "RSET":
		s.sub = nil
		s.reply("250 2.0.0 Ok")
	case "NOOP":
		s.reply("250 2.0.0 Ok")
	case "VRFY":
		s.reply("252 2.0.0 " + arg)
	case "QUIT":
		s.reply("221 2.0.0 Bye")
		s.out.Flush()
		return false
	default:
		s.reply("500 5.5.2 Error: command not recognized")
	}
	return true
}

func (s *smtpSession) mail(arg string) {
	if s.sub != nil {
		s.reply("503 5.5.1 Error: nested MAIL command")
		return
	}
	text, ok := cutPrefixFold(arg, "FROM:")
	if !ok {
		s.reply("501 5.5.4 Syntax: MAIL FROM:<address>")
		return
	}
	path, _, err := addr.ParseMail(text, addr.Options{})
	if err != nil {
		s.reply(replyText(err))
		return
	}
	s.sub = &maildrop.Submission{Sender: path.Address.Internal()}
	s.reply("250 2.1.0 Ok")
}

func (s *smtpSession) rcpt(arg string) {
	if s.sub == nil {
		s.reply("503 5.5.1 Error: need MAIL command")
		return
	}
	text, ok := cutPrefixFold(arg, "TO:")
	if !ok {
		s.reply("501 5.5.4 Syntax: RCPT TO:<address>")
		return
	}
	path, _, err := addr.ParseRcpt(text, addr.Options{})
	if err != nil {
		s.reply(replyText(err))
		return
	}
	s.sub.Recipients = append(s.sub.Recipients, path.Address.Internal())
	s.reply("250 2.1.5 Ok")
}

func (s *smtpSession) data() {
	if s.sub == nil || len(s.sub.Recipients) == 0 {
		s.reply("503 5.5.1 Error: need RCPT command")
		return
	}
	s.reply("354 End data with <CR><LF>.<CR><LF>")
	if err := s.out.Flush(); err != nil {
		return
	}
	sub := s.sub
	s.sub = nil
	body := &dotReader{in: s.in}
	id, err := deposit(s.tool, sub, body, s.opts.verbose > 0)
	if _, drainErr := io.Copy(io.Discard, body); drainErr != nil {
		return
	}
	var exit *exec.ExitError
	switch {
	case err == nil && id != "":
		s.reply("250 2.0.0 Ok: queued as " + id)
	case err == nil:
		s.reply("250 2.0.0 Ok: queued")
	case errors.As(err, &exit):
		s.reply("451 4.3.0 Error: queue file write error")
	default:
		s.tool.Log.Warning("%v", err)
		s.reply("451 4.3.0 Error: queue file write error")
	}
}

// replyText turns a parse error into its SMTP reply.
func replyText(err error) string {
	var re *addr.ReplyError
	if errors.As(err, &re) {
		return re.Error()
	}
	return fmt.Sprintf("501 5.5.4 %v", err)
}

// cutPrefixFold cuts a case-insensitive prefix.
func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) < len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return "", false
	}
	return strings.TrimSpace(s[len(prefix):]), true
}

// dotReader reads SMTP DATA up to the line ".": leading dots are
// unstuffed, and it returns io.EOF at the end marker or at end of input.
type dotReader struct {
	in      *bufio.Reader
	pending []byte
	done    bool
	midLine bool
}

func (d *dotReader) Read(p []byte) (int, error) {
	for len(d.pending) == 0 {
		if d.done {
			return 0, io.EOF
		}
		piece, err := d.in.ReadSlice('\n')
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			d.done = true
		}
		lineStart := !d.midLine
		d.midLine = errors.Is(err, bufio.ErrBufferFull)
		if lineStart && len(piece) > 0 && piece[0] == '.' {
			if s := string(piece); s == ".\r\n" || s == ".\n" {
				d.done = true
				return 0, io.EOF
			}
			piece = piece[1:]
		}
		d.pending = append(d.pending[:0], piece...)
	}
	n := copy(p, d.pending)
	d.pending = d.pending[n:]
	return n, nil
}
