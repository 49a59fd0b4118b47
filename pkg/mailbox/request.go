// One mailbox delivery request, to a Maildir or an mbox file.

package mailbox

import (
	"errors"
	"io"
)

// Request is one delivery: to a Maildir when Maildir is set, else to the
// mbox file Path. File marks a file named in an alias, .forward or
// :include: entry (DeliverFile's rules) rather than a mailbox.
//
// Virtual marks virtual(8)'s delivery, whose mailbox location is the
// administrator's: as in Postfix an open, lock or create error with no
// more specific status defers (4.2.0) instead of bouncing (5.2.0), and a
// failed mbox delivery reads "delivery failed to mailbox PATH: ..." (a
// mailbox that is not a regular file: "mail system configuration error",
// 5.3.5, with a warning to log). User
// names local(8)'s user in "cannot update mailbox PATH for user USER.";
// Message.Recipient when empty.
//
// StrictOwner (strict_mailbox_ownership) makes an mbox delivery check
// that user ID Owner owns the file: another's is left alone, the
// delivery deferred with 4.2.0 "destination PATH is not owned by
// recipient" and a warning to log.
type Request struct {
	Path    string
	Maildir bool
	File    bool
	Virtual bool
	User    string
	Message Message
	Locks   Locks
	Limit   int64

	StrictOwner bool
	Owner       int
}

// Deliver carries out req in this process, with the calling thread's
// credentials. The error is an *Error.
func Deliver(req *Request, content io.Reader) error {
	var err error
	switch {
	case req.Maildir:
		_, err = DeliverMaildir(req.Path, &req.Message, content, req.Limit)
	case req.File:
		return DeliverFile(req.Path, &req.Message, content, req.Locks, req.Limit)
	default:
		owner := -1
		if req.StrictOwner {
			owner = req.Owner
		}
		err = deliverMbox(req.Path, &req.Message, content, req.Locks, req.Limit, owner)
	}
	var failure *Error
	if !errors.As(err, &failure) {
		return err
	}
	if req.Virtual && failure.notRegular {
		// Postfix's virtual takes it for a configuration error.
		failure.Warning = "recipient " + req.Message.Recipient + ": destination " + req.Path + " is not a regular file"
		failure.DSN, failure.reason = "5.3.5", "mail system configuration error"
	}
	if req.Virtual && failure.defaulted {
		failure.DSN, failure.Permanent = setupSoftDSN, false
	}
	if !req.Maildir && failure.reason != "" {
		switch {
		case req.Virtual:
			failure.Text = "delivery failed to mailbox " + req.Path + ": " + failure.reason
		case req.User != "":
			failure.Text = "cannot update mailbox " + req.Path + " for user " + req.User + ". " + failure.reason
		}
	}
	return failure
}
