// Package verify is Postfix's address verification: the verify service's
// cache of what recipient addresses are known to be deliverable, the
// probes it sends through the normal delivery path to find out, the
// protocol smtpd (reject_unverified_recipient, reject_unverified_sender)
// and qmgr (probe results) speak with it, and its client.
//
// A probe is an ordinary message to the address with the verify flag
// (queue file attribute trace_flags, as in Postfix): qmgr routes it (with
// the address_verify_* transport and relayhost overrides), the delivery
// agent reports what would happen without delivering (smtp stops after
// RCPT TO, local and virtual look the recipient up), and qmgr sends the
// result to the verify service and removes the message, which is never
// deferred or returned.
package verify

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Status is an address's verification status, numbered as Postfix's
// recipient status codes so that its cache files mean the same.
type Status int

// The statuses.
const (
	StatusOK     Status = 0 // deliverable
	StatusDefer  Status = 1 // undeliverable for now
	StatusBounce Status = 2 // undeliverable
	StatusTodo   Status = 3 // unknown: a probe is under way
)

func (s Status) valid() bool { return s >= StatusOK && s <= StatusTodo }

// Name is the status as delivery agents log a probe's outcome.
func (s Status) Name() string {
	if s == StatusOK {
		return "deliverable"
	}
	return "undeliverable"
}

// ServiceDir is where the verify socket lives, relative to the queue
// directory: private/$address_verify_service_name.
const ServiceDir = "private"

// inProgress is the text of an address without a result yet.
const inProgress = "Address verification in progress"

// probeTTL is how long a probe may stay unanswered before the next query
// sends another, as Postfix's (1000 s).
const probeTTL = 1000 * time.Second

// entry is one cached address: "status:probed:updated:text" in the table,
// Postfix's format, times in seconds since the epoch (0 for none).
type entry struct {
	status  Status
	probed  int64 // when the outstanding probe was sent
	updated int64 // when the last result came
	text    string
}

func (e entry) String() string {
	return fmt.Sprintf("%d:%d:%d:%s", e.status, e.probed, e.updated, e.text)
}

// parseEntry reads a table value; ok is false for a malformed one.
func parseEntry(v string) (e entry, ok bool) {
	parts := strings.SplitN(v, ":", 4)
	if len(parts) != 4 {
		return entry{}, false
	}
	status, err1 := strconv.ParseUint(parts[0], 10, 8)
	probed, err2 := strconv.ParseUint(parts[1], 10, 63)
	updated, err3 := strconv.ParseUint(parts[2], 10, 63)
	e = entry{status: Status(status), probed: int64(probed), updated: int64(updated), text: parts[3]}
	if err1 != nil || err2 != nil || err3 != nil || !e.status.valid() || (e.probed == 0 && e.updated == 0) {
		return entry{}, false
	}
	return e, true
}
