// Scripted SMTP dialogues: tables of a line sent and the reply it gets,
// played on an smtpDialogue and either checked row by row or rendered
// as "LINE -> REPLY" rows for a comparison with a real Postfix.

package tests

import (
	"fmt"
	"strings"
)

// smtpStep is one row of a scripted dialogue: the line sent ("" sends
// nothing: the banner, or the reply to lines sent before) and the
// complete reply, its lines joined by "\n".
type smtpStep struct{ send, reply string }

// greeting is Postern's banner in the tests' configurations.
var greeting = smtpStep{"", "220 mx.test.example ESMTP Postern"}

// dialogue plays steps, checking each complete reply exactly.
func (d *smtpDialogue) dialogue(steps []smtpStep) {
	d.t.Helper()
	for _, s := range steps {
		d.expect(s.send, s.reply)
	}
}

// replyRender renders the reply to line for a comparison, its lines
// joined by "\n".
type replyRender func(line string, reply []string) string

// play sends each line and reads its reply, and returns the steps with
// the replies rendered by render (nil: the lines joined by "\n"). ""
// sends nothing; "PIPELINED A|B|C" sends A, B and C in one write and
// gives a step for each.
func (d *smtpDialogue) play(lines []string, render replyRender) []smtpStep {
	d.t.Helper()
	var out []smtpStep
	for _, line := range lines {
		cmds := []string{line}
		if rest, ok := strings.CutPrefix(line, "PIPELINED "); ok {
			cmds = strings.Split(rest, "|")
			fmt.Fprintf(d.conn, "%s\r\n", strings.Join(cmds, "\r\n"))
		} else if line != "" {
			fmt.Fprintf(d.conn, "%s\r\n", line)
		}
		for _, c := range cmds {
			reply := d.readReply(d.t)
			text := strings.Join(reply, "\n")
			if render != nil {
				text = render(c, reply)
			}
			out = append(out, smtpStep{c, text})
		}
	}
	return out
}

// sends are the lines of steps, to play them.
func sends(steps []smtpStep) []string {
	out := make([]string, len(steps))
	for i, s := range steps {
		out[i] = s.send
	}
	return out
}

// stepLines renders steps as "LINE -> REPLY" rows: the first line of
// what was sent ("banner" for nothing), the reply's lines joined by
// " | ".
func stepLines(steps []smtpStep) []string {
	out := make([]string, len(steps))
	for i, s := range steps {
		label := strings.SplitN(s.send, "\r\n", 2)[0]
		if label == "" {
			label = "banner"
		}
		out[i] = label + " -> " + strings.ReplaceAll(s.reply, "\n", " | ")
	}
	return out
}

// bannerCodes renders the banner by its code (the servers' texts
// differ) and every other reply whole.
func bannerCodes(line string, reply []string) string {
	if line == "" {
		return smtpDiffCodes(reply)
	}
	return strings.Join(reply, "\n")
}
