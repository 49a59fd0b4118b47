// One mailbox delivery request, to a Maildir or an mbox file.

package mailbox

import "io"

// Request is one delivery: to a Maildir when Maildir is set, else to the
// mbox file Path. File marks a file named in an alias, .forward or
// :include: entry (DeliverFile's rules) rather than a mailbox.
type Request struct {
	Path    string
	Maildir bool
	File    bool
	Message Message
	Locks   Locks
	Limit   int64
}

// Deliver carries out req in this process, with the calling thread's
// credentials. The error is an *Error.
func Deliver(req *Request, content io.Reader) error {
	if req.Maildir {
		_, err := DeliverMaildir(req.Path, &req.Message, content, req.Limit)
		return err
	}
	if req.File {
		return DeliverFile(req.Path, &req.Message, content, req.Locks, req.Limit)
	}
	return DeliverMbox(req.Path, &req.Message, content, req.Locks, req.Limit)
}
