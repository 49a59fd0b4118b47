// Evaluation of the restriction lists at RCPT TO.

package policy

import (
	"fmt"
	"strings"

	"github.com/postern/postern/pkg/resolve"
)

// evaluation is the state of one RCPT check.
type evaluation struct {
	c             *Checker
	s             Session
	deferIfPermit *Decision
	deferIfReject *Decision
	hold, discard bool            // set by HOLD and DISCARD access actions
	recipient     *resolve.Result // resolved recipient, computed once
}

// replyContext names what a reply is about: "<name>: class rejected: ...".
type replyContext struct {
	name  string // "a@b.example", "host[1.2.3.4]", "<>"
	class string // "Recipient address", "Sender address", "Client host", "Helo command"
}

// CheckRecipient evaluates smtpd_relay_restrictions and
// smtpd_recipient_restrictions (in the order of
// smtpd_relay_before_recipient_restrictions) for s.Recipient, applies a
// pending defer_if_permit, and then, with smtpd_reject_unlisted_recipient,
// the recipient validation. A returned error means a table could not be
// read; the decision then is Postfix's 451 4.3.0 temporary failure.
//
// An unqualified "postmaster" is always accepted (RFC 5321 section 4.5.1),
// before any restriction.
func (c *Checker) CheckRecipient(s Session) (Decision, error) {
	if s.Recipient.Domain == "" && strings.EqualFold(s.Recipient.Local, "postmaster") {
		return Decision{Action: Permit}, nil
	}
	e := &evaluation{c: c, s: s}
	rcptCtx := replyContext{name: s.Recipient.Internal(), class: "Recipient address"}
	lists := [][]restriction{c.relay, c.recipient}
	if !c.relayBeforeRecipient {
		lists[0], lists[1] = lists[1], lists[0]
	}
	for _, list := range lists {
		d, err := e.run(list, rcptCtx, 0)
		if err != nil {
			return c.tempFailure(rcptCtx), err
		}
		if d.Action == Reject || d.Action == Defer {
			return e.finalReject(d), nil
		}
	}
	if e.deferIfPermit != nil {
		return *e.deferIfPermit, nil
	}
	if c.rejectUnlisted {
		d, err := c.ValidateRecipient(s.Recipient)
		if err != nil || d.Action != Dunno {
			return d, err
		}
	}
	return Decision{Action: Permit, Hold: e.hold, Discard: e.discard}, nil
}

// finalReject applies a pending defer_if_reject to a rejection.
func (e *evaluation) finalReject(d Decision) Decision {
	if d.Action == Reject && e.deferIfReject != nil {
		return *e.deferIfReject
	}
	return d
}

// tempFailure is the reply for a table that cannot be read.
func (c *Checker) tempFailure(ctx replyContext) Decision {
	return Decision{Action: Defer, Code: 451, DSN: "4.3.0", Text: fmt.Sprintf("<%s>: Temporary lookup failure", ctx.name)}
}

// run evaluates a list until an item permits, rejects or defers.
func (e *evaluation) run(list []restriction, ctx replyContext, depth int) (Decision, error) {
	for _, r := range list {
		d, err := e.apply(r, ctx, depth)
		if err != nil || d.Action != Dunno {
			return d, err
		}
	}
	return Decision{}, nil
}

// reject builds a rejection "CODE DSN <name>: class rejected: text", the
// DSN's class digit following the code's.
func reject(code int, dsn string, ctx replyContext, text string) Decision {
	action := Reject
	if code/100 == 4 {
		action = Defer
	}
	return Decision{Action: action, Code: code, DSN: dsnForSubject(dsnForCode(code, dsn), ctx.class), Text: fmt.Sprintf("<%s>: %s rejected: %s", ctx.name, ctx.class, text)}
}

// The X.1.Y details that suit a recipient and a sender reply.
var (
	recipientDetails = map[string]string{"0": "0", "1": "1", "2": "2", "3": "3", "4": "4", "5": "5", "6": "6", "7": "3", "8": "2"}
	senderDetails    = map[string]string{"0": "0", "1": "7", "2": "8", "3": "7", "4": "7", "5": "0", "6": "7", "7": "7", "8": "8"}
)

// dsnForSubject makes an X.1.Y (address status) code fit what the reply is
// about, as Postfix's smtpd does: a recipient gets the destination codes
// (X.1.7 becomes X.1.3, X.1.8 becomes X.1.2), a sender the sender codes
// (X.1.1, .3, .4, .6 become X.1.7, X.1.2 becomes X.1.8), an unknown
// detail becomes X.1.0, and a client or HELO reply, which is about no
// address, becomes X.0.0.
func dsnForSubject(dsn, class string) string {
	if len(dsn) < 5 || dsn[1:3] != ".1" || dsn[3] != '.' {
		return dsn
	}
	class0 := dsn[:1]
	detail := dsn[4:]
	var m map[string]string
	switch class {
	case "Recipient address":
		m = recipientDetails
	case "Sender address":
		m = senderDetails
	default:
		return class0 + ".0.0"
	}
	if d, ok := m[detail]; ok {
		return class0 + ".1." + d
	}
	return class0 + ".1.0"
}

// dsnForCode makes the DSN's first digit agree with the reply code.
func dsnForCode(code int, dsn string) string {
	first := byte('0' + code/100)
	if dsn == "" || dsn[0] == first {
		return dsn
	}
	return string(first) + dsn[1:]
}

// apply evaluates one restriction.
func (e *evaluation) apply(r restriction, ctx replyContext, depth int) (Decision, error) {
	c, s := e.c, e.s
	switch r.name {
	case "permit":
		return Decision{Action: Permit}, nil
	case "reject":
		return reject(c.rejectCode, "5.7.1", ctx, "Access denied"), nil
	case "defer":
		return reject(c.deferCode, "4.7.1", ctx, "Try again later"), nil
	case "defer_if_permit":
		if e.deferIfPermit == nil {
			d := reject(c.deferCode, "4.7.1", ctx, "defer_if_permit requested")
			e.deferIfPermit = &d
		}
		return Decision{}, nil
	case "defer_if_reject":
		if e.deferIfReject == nil {
			d := reject(c.deferCode, "4.7.1", ctx, "defer_if_reject requested")
			e.deferIfReject = &d
		}
		return Decision{}, nil
	case "permit_mynetworks":
		ok, err := c.mynetworks.Match("", s.ClientAddr)
		return permitIf(ok), err
	case "permit_sasl_authenticated":
		return permitIf(s.SASLUser != ""), nil
	case "permit_auth_destination", "reject_unauth_destination", "defer_unauth_destination":
		return e.relayCheck(r.name)
	case "reject_non_fqdn_recipient":
		return e.nonFQDN(replyContext{name: s.Recipient.Internal(), class: "Recipient address"}, s.Recipient.Internal()), nil
	case "reject_non_fqdn_sender":
		if s.Sender.Internal() == "" {
			return Decision{}, nil
		}
		return e.nonFQDN(replyContext{name: s.Sender.Internal(), class: "Sender address"}, s.Sender.Internal()), nil
	case "reject_unlisted_recipient":
		return c.ValidateRecipient(s.Recipient)
	case "check_client_access":
		return e.checkAccess(r.table, clientKeys(c, s), replyContext{name: s.clientName() + "[" + s.ClientAddr + "]", class: "Client host"}, depth)
	case "check_helo_access":
		if s.Helo == "" {
			return Decision{}, nil
		}
		return e.checkAccess(r.table, domainKeys(c, s.Helo, false), replyContext{name: s.Helo, class: "Helo command"}, depth)
	case "check_sender_access":
		keys, err := e.addressKeys(s.Sender.Internal(), true)
		if err != nil {
			return Decision{}, err
		}
		return e.checkAccess(r.table, keys, replyContext{name: s.Sender.Internal(), class: "Sender address"}, depth)
	case "check_recipient_access":
		keys, err := e.addressKeys(s.Recipient.Internal(), false)
		if err != nil {
			return Decision{}, err
		}
		return e.checkAccess(r.table, keys, replyContext{name: s.Recipient.Internal(), class: "Recipient address"}, depth)
	}
	if r.class != nil {
		if depth >= maxClassDepth {
			return Decision{}, fmt.Errorf("restriction class %s: too much recursion", r.name)
		}
		return e.run(r.class, ctx, depth+1)
	}
	return Decision{}, fmt.Errorf("unknown smtpd restriction: \"%s\"", r.name)
}

// permitIf turns a test into Permit or Dunno.
func permitIf(ok bool) Decision {
	if ok {
		return Decision{Action: Permit}
	}
	return Decision{}
}

// resolvedRecipient resolves the recipient once per evaluation.
func (e *evaluation) resolvedRecipient() (*resolve.Result, error) {
	if e.recipient == nil {
		res, err := e.c.resolver.Resolve(e.s.Recipient.Internal())
		if err != nil {
			return nil, err
		}
		e.recipient = &res
	}
	return e.recipient, nil
}

// relayCheck implements permit_auth_destination, reject_unauth_destination
// and defer_unauth_destination: the resolved recipient must have a final
// destination or a relay_domains domain, and no sender-specified routing
// unless allow_untrusted_routing = yes.
func (e *evaluation) relayCheck(name string) (Decision, error) {
	res, err := e.resolvedRecipient()
	if err != nil {
		return Decision{}, err
	}
	authorized := (res.Class.Final() || res.Class == resolve.ClassRelay) &&
		(e.c.allowUntrustedRouting || !res.Routed)
	switch {
	case name == "permit_auth_destination":
		return permitIf(authorized), nil
	case authorized:
		return Decision{}, nil
	case name == "defer_unauth_destination":
		return Decision{Action: Defer, Code: 454, DSN: "4.7.1", Text: fmt.Sprintf("<%s>: Relay access denied", e.s.Recipient.Internal())}, nil
	default:
		code := e.c.relayRejectCode
		return Decision{Action: actionFor(code), Code: code, DSN: dsnForCode(code, "5.7.1"), Text: fmt.Sprintf("<%s>: Relay access denied", e.s.Recipient.Internal())}, nil
	}
}

// actionFor maps a reply code to Reject (5xx) or Defer (4xx).
func actionFor(code int) Action {
	if code/100 == 4 {
		return Defer
	}
	return Reject
}

// nonFQDN rejects an address whose domain is missing or has no dot
// (reject_non_fqdn_*, non_fqdn_reject_code 504).
func (e *evaluation) nonFQDN(ctx replyContext, address string) Decision {
	at := strings.LastIndexByte(address, '@')
	if at >= 0 {
		domain := address[at+1:]
		if strings.HasPrefix(domain, "[") || strings.Contains(strings.TrimSuffix(domain, "."), ".") {
			return Decision{}
		}
	}
	return reject(e.c.nonFQDNCode, "5.5.2", ctx, "need fully-qualified address")
}
