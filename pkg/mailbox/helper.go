// Delivery in a child process with the recipient's credentials: the same binary re-run in helper mode.
package mailbox

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
)

// HelperArg is the first argument that puts a Postern delivery agent
// binary into helper mode (see IsHelper and HelperMain).
const HelperArg = "--postern-mailbox-helper"

// Request is one delivery: to a Maildir when Maildir is set, else to the
// mbox file Path.
type Request struct {
	Path    string
	Maildir bool
	Message Message
	Locks   Locks
	Limit   int64
}

// Deliver carries out req in this process. The error is an *Error.
func Deliver(req *Request, content io.Reader) error {
	if req.Maildir {
		_, err := DeliverMaildir(req.Path, &req.Message, content, req.Limit)
		return err
	}
	return DeliverMbox(req.Path, &req.Message, content, req.Locks, req.Limit)
}

// helperReply is what the helper writes to its standard output.
type helperReply struct {
	Failure *Error `json:",omitempty"`
}

// IsHelper reports whether args (os.Args) ask for helper mode.
func IsHelper(args []string) bool { return len(args) > 1 && args[1] == HelperArg }

// HelperMain is helper mode: it reads one JSON Request line and then the
// content from in, delivers, and writes the JSON outcome to out. It
// returns the exit status: 0 when an outcome was written.
func HelperMain(in io.Reader, out io.Writer) int {
	br := bufio.NewReader(in)
	line, err := br.ReadBytes('\n')
	if err != nil {
		fmt.Fprintf(os.Stderr, "fatal: read delivery request: %v\n", err)
		return 1
	}
	var req Request
	if err := json.Unmarshal(line, &req); err != nil {
		fmt.Fprintf(os.Stderr, "fatal: decode delivery request: %v\n", err)
		return 1
	}
	var reply helperReply
	if err := Deliver(&req, br); err != nil {
		if !errors.As(err, &reply.Failure) {
			reply.Failure = &Error{DSN: "4.3.0", Text: err.Error()}
		}
	}
	if err := json.NewEncoder(out).Encode(&reply); err != nil {
		fmt.Fprintf(os.Stderr, "fatal: write delivery outcome: %v\n", err)
		return 1
	}
	return 0
}

// DeliverAs carries out req in a child process, the program exe started
// with HelperArg, running with the credentials cred (nil: this process's
// own). The child is never cut short, so that an mbox is not left with a
// partial entry. The error is an *Error: the delivery's own failure, or a
// temporary one when the helper could not run.
func DeliverAs(exe string, cred *syscall.Credential, req *Request, content io.Reader) error {
	header, err := json.Marshal(req)
	if err != nil {
		return &Error{DSN: "4.3.0", Text: fmt.Sprintf("encode delivery request: %v", err)}
	}
	cmd := exec.Command(exe, HelperArg)
	cmd.Env = []string{}
	cmd.Dir = "/"
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	cmd.Stdin = io.MultiReader(bytes.NewReader(append(header, '\n')), content)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return &Error{DSN: "4.3.0", Text: fmt.Sprintf("mailbox delivery helper %s: %v: %s", exe, err, bytes.TrimSpace(stderr.Bytes()))}
	}
	var reply helperReply
	if err := json.Unmarshal(stdout.Bytes(), &reply); err != nil {
		return &Error{DSN: "4.3.0", Text: fmt.Sprintf("mailbox delivery helper %s: bad reply %q: %v", exe, stdout.Bytes(), err)}
	}
	if reply.Failure != nil {
		return reply.Failure
	}
	return nil
}
