// Delivery in a child process with the recipient's credentials: the same binary re-run in helper mode.

package mailbox

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
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

// HelperMain is helper mode: for each delivery it reads one JSON Request
// line and then the content in chunks (see writeChunked) from in,
// delivers, and writes the JSON outcome line to out, until in ends. It
// returns the exit status: 0 when in ended between deliveries.
func HelperMain(in io.Reader, out io.Writer) int {
	br := bufio.NewReader(in)
	bw := bufio.NewWriter(out)
	for {
		line, err := br.ReadBytes('\n')
		if err == io.EOF && len(line) == 0 {
			return 0
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "fatal: read delivery request: %v\n", err)
			return 1
		}
		var req Request
		if err := json.Unmarshal(line, &req); err != nil {
			fmt.Fprintf(os.Stderr, "fatal: decode delivery request: %v\n", err)
			return 1
		}
		content := &chunkReader{r: br}
		var reply helperReply
		if err := Deliver(&req, content); err != nil {
			if !errors.As(err, &reply.Failure) {
				reply.Failure = &Error{DSN: "4.3.0", Text: err.Error()}
			}
		}
		// A delivery that stopped early (a size limit, a write error)
		// leaves content behind; the next request starts after it.
		if _, err := io.Copy(io.Discard, content); err != nil {
			fmt.Fprintf(os.Stderr, "fatal: read message content: %v\n", err)
			return 1
		}
		if err := json.NewEncoder(bw).Encode(&reply); err != nil {
			fmt.Fprintf(os.Stderr, "fatal: write delivery outcome: %v\n", err)
			return 1
		}
		if err := bw.Flush(); err != nil {
			fmt.Fprintf(os.Stderr, "fatal: write delivery outcome: %v\n", err)
			return 1
		}
	}
}

// DeliverAs carries out req in a child process of its own, the program
// exe started with HelperArg, running with the credentials cred (nil: this
// process's own). The child is never cut short, so that an mbox is not
// left with a partial entry. The error is an *Error: the delivery's own
// failure, or a temporary one when the helper could not run. Helpers
// keeps such children for many deliveries instead.
func DeliverAs(exe string, cred *syscall.Credential, req *Request, content io.Reader) error {
	h, err := startHelper(exe, cred)
	if err != nil {
		return err
	}
	deliverErr := h.deliver(req, content)
	if err := h.stop(); err != nil && deliverErr == nil {
		return err
	}
	return deliverErr
}
