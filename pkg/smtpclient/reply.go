// SMTP replies: reading multi-line replies and classifying them.

package smtpclient

import (
	"bufio"
	"fmt"
	"strconv"
	"strings"

	"github.com/postern/postern/pkg/dsn"
)

// Reply is one server reply.
type Reply struct {
	Code int
	// Lines are the text of each line without the code and separator.
	Lines []string
}

// Text is the reply as Postfix quotes it: the code and the lines joined
// with spaces, e.g. "250 2.0.0 Ok: queued as 4F3A1".
func (r Reply) Text() string {
	return strconv.Itoa(r.Code) + " " + strings.Join(r.Lines, " ")
}

// Class is the first digit of the code: 2, 3, 4 or 5.
func (r Reply) Class() int { return r.Code / 100 }

// DSN is the enhanced status code at the start of the reply text, or
// one derived from the reply code ("4.0.0", "5.0.0", "2.0.0").
func (r Reply) DSN() string {
	if len(r.Lines) > 0 {
		word, _, _ := strings.Cut(r.Lines[0], " ")
		if dsn.Valid(word) && word[0] == byte('0'+r.Class()) {
			return word
		}
	}
	return fmt.Sprintf("%d.0.0", r.Class())
}

// readReply reads one reply, following "250-" continuation lines.
func readReply(r *bufio.Reader) (Reply, error) {
	var reply Reply
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return Reply{}, err
		}
		line = strings.TrimRight(line, "\r\n")
		if len(line) < 3 {
			return Reply{}, fmt.Errorf("malformed reply line %q", line)
		}
		code, err := strconv.Atoi(line[:3])
		if err != nil || code < 200 || code > 599 {
			return Reply{}, fmt.Errorf("malformed reply line %q", line)
		}
		if reply.Code != 0 && code != reply.Code {
			return Reply{}, fmt.Errorf("reply code changed within reply: %q", line)
		}
		reply.Code = code
		sep, text := byte(' '), ""
		if len(line) > 3 {
			sep, text = line[3], line[4:]
		}
		reply.Lines = append(reply.Lines, text)
		if sep != '-' {
			return reply, nil
		}
	}
}
