// The restriction stages (client, HELO, sender, recipient, DATA,
// end-of-data, ETRN), the evaluation of one list, and how a rejection is
// enforced: warn_if_reject, defer_if_reject, defer_if_permit, soft_bounce
// and the "reject:" log line.

package policy

import (
	"fmt"
	"strings"
	"time"

	"github.com/postern/postern/pkg/addr"
	"github.com/postern/postern/pkg/dsn"
	"github.com/postern/postern/pkg/resolve"
)

// The names of what a reply is about, as Postfix words them.
const (
	classClient        = "Client host"
	classReverseClient = "Unverified Client host"
	classHelo          = "Helo command"
	classSender        = "Sender address"
	classRecipient     = "Recipient address"
	classEtrn          = "Etrn command"
	classSASLUser      = "SASL login name"
	classClientCert    = "Client certificate"
	classData          = "Data command"
	classEndOfData     = "End-of-data"
)

// evaluation is the state of one stage's check.
type evaluation struct {
	c         *Checker
	s         *Session
	defACL    string          // the check for a bare "type:table" item
	recipient *resolve.Result // resolved recipient, computed once
}

// replyContext names what a reply is about: "<name>: class rejected: ...".
type replyContext struct {
	name  string // "a@b.example", "host[1.2.3.4]", "<>"
	class string
}

// resetStage starts a stage as Postfix's SMTPD_CHECK_RESET does.
func (s *Session) resetStage() {
	s.recursion, s.warnIfReject = 0, 0
	s.deferIfReject.active = false
}

// CheckClient evaluates smtpd_client_restrictions when a client connects
// (smtpd calls it only with smtpd_delay_reject = no).
func (c *Checker) CheckClient(s *Session) Decision {
	s.where = "CONNECT"
	return c.checkClient(s)
}

func (c *Checker) checkClient(s *Session) Decision {
	s.deferIfPermit.active = false
	s.resetStage()
	d := c.runStage(s, c.client, replyContext{name: s.namaddr(), class: classClient}, "check_client_access")
	s.dipClient = s.deferIfPermit.active
	return d
}

// CheckHelo evaluates smtpd_helo_restrictions for HELO or EHLO (verb)
// with smtpd_delay_reject = no; s.Helo is the new argument.
func (c *Checker) CheckHelo(s *Session, verb string) Decision {
	s.where = verb
	return c.checkHelo(s)
}

func (c *Checker) checkHelo(s *Session) Decision {
	if s.Helo == "" {
		return Decision{}
	}
	s.deferIfPermit.active = s.dipClient
	s.resetStage()
	d := c.runStage(s, c.helo, replyContext{name: s.Helo, class: classHelo}, "check_helo_access")
	s.dipHelo = s.deferIfPermit.active
	return d
}

// CheckSender evaluates smtpd_sender_restrictions at MAIL FROM with
// smtpd_delay_reject = no, then smtpd_reject_unlisted_sender.
func (c *Checker) CheckSender(s *Session) Decision {
	s.where = "MAIL"
	return c.checkSender(s)
}

func (c *Checker) checkSender(s *Session) Decision {
	if !s.Mail {
		return Decision{}
	}
	s.deferIfPermit.active = s.dipClient || s.dipHelo
	s.senderValidated = false
	s.resetStage()
	ctx := replyContext{name: s.Sender.Internal(), class: classSender}
	d := c.runStage(s, c.sender, ctx, "check_sender_access")
	s.dipSender = s.deferIfPermit.active
	if c.set.RejectUnlistedSender && !isRejection(d) && !s.senderValidated && !s.Discard && s.Sender.Internal() != "" {
		e := &evaluation{c: c, s: s}
		d = e.enforce(e.unlistedSender())
	}
	return d
}

// CheckRecipient evaluates, for s.Recipient at RCPT TO: with
// smtpd_delay_reject the client, HELO and sender restrictions; then
// smtpd_relay_restrictions and smtpd_recipient_restrictions (in the order
// of smtpd_relay_before_recipient_restrictions); a pending
// defer_if_permit; and with smtpd_reject_unlisted_recipient the
// recipient validation.
//
// An unqualified "postmaster" is always accepted (RFC 5321 section 4.5.1),
// before any restriction. So is the address verification probe sender
// (address_verify_sender, its time stamp within one
// address_verify_sender_ttl of now), as in Postfix: s.Recipient is then
// replaced by the address without the time stamp, where the mail goes.
func (c *Checker) CheckRecipient(s *Session) Decision {
	if probe, ok := c.verify.probeSender.Match(s.Recipient.Internal(), time.Now()); ok {
		s.Recipient = addr.Split(probe)
		return Decision{Action: Permit}
	}
	return c.checkRecipient(s, "RCPT")
}

// CheckVrfy applies the RCPT TO restrictions to the address of VRFY
// (s.Recipient), as Postfix does.
func (c *Checker) CheckVrfy(s *Session) Decision {
	return c.checkRecipient(s, "VRFY")
}

func (c *Checker) checkRecipient(s *Session, where string) Decision {
	if s.Recipient.Domain == "" && strings.EqualFold(s.Recipient.Local, "postmaster") {
		return Decision{Action: Permit}
	}
	s.where = where
	s.recipientValidated = false
	if c.set.DelayReject {
		for _, check := range []func(*Session) Decision{c.checkClient, c.checkHelo, c.checkSender} {
			if d := check(s); isRejection(d) {
				return d
			}
		}
	}
	s.deferIfPermit.active = s.dipSender
	s.resetStage()
	rcptCtx := replyContext{name: s.Recipient.Internal(), class: classRecipient}
	lists := [][]restriction{c.relay, c.recipient}
	if !c.set.RelayBeforeRecipient {
		lists[0], lists[1] = lists[1], lists[0]
	}
	var d Decision
	for _, list := range lists {
		d = c.runStage(s, list, rcptCtx, "check_recipient_access")
		if isRejection(d) {
			return d
		}
	}
	if s.deferIfPermit.active {
		e := &evaluation{c: c, s: s}
		return e.enforce(s.deferIfPermit.reply)
	}
	if c.set.RejectUnlisted && !s.recipientValidated && !s.Discard {
		e := &evaluation{c: c, s: s}
		if d := e.enforce(c.validateRecipient(s.Recipient)); isRejection(d) {
			return d
		}
	}
	return Decision{Action: Permit, Hold: s.Hold, Discard: s.Discard}
}

// CheckData evaluates smtpd_data_restrictions at DATA.
func (c *Checker) CheckData(s *Session) Decision {
	s.where = "DATA"
	return c.checkMessage(s, c.data, replyContext{name: "DATA", class: classData})
}

// CheckEndOfData evaluates smtpd_end_of_data_restrictions after the
// message content (s.Size is its size).
func (c *Checker) CheckEndOfData(s *Session) Decision {
	s.where = "END-OF-MESSAGE"
	return c.checkMessage(s, c.endOfData, replyContext{name: "END-OF-MESSAGE", class: classEndOfData})
}

// checkMessage runs a message-level stage; with several recipients none
// is named in logs or given to restrictions.
func (c *Checker) checkMessage(s *Session, list []restriction, ctx replyContext) Decision {
	s.noRecipient = s.RecipientCount > 1
	defer func() { s.noRecipient = false }()
	s.deferIfPermit.active = false
	s.resetStage()
	d := c.runStage(s, list, ctx, "")
	if !isRejection(d) && s.deferIfPermit.active {
		e := &evaluation{c: c, s: s}
		return e.enforce(s.deferIfPermit.reply)
	}
	return d
}

// CheckEtrn evaluates, for ETRN domain, the client and HELO restrictions
// (with smtpd_delay_reject) and smtpd_etrn_restrictions.
func (c *Checker) CheckEtrn(s *Session, domain string) Decision {
	s.where = "ETRN"
	s.Etrn = domain
	defer func() { s.Etrn = "" }()
	if c.set.DelayReject {
		for _, check := range []func(*Session) Decision{c.checkClient, c.checkHelo} {
			if d := check(s); isRejection(d) {
				return d
			}
		}
	}
	s.deferIfPermit.active = s.dipClient || s.dipHelo
	s.resetStage()
	d := c.runStage(s, c.etrn, replyContext{name: domain, class: classEtrn}, "check_etrn_access")
	if !isRejection(d) && s.deferIfPermit.active {
		e := &evaluation{c: c, s: s}
		return e.enforce(s.deferIfPermit.reply)
	}
	return d
}

// isRejection reports whether d rejects or defers the request.
func isRejection(d Decision) bool { return d.Action == Reject || d.Action == Defer }

// runStage evaluates one stage's list.
func (c *Checker) runStage(s *Session, list []restriction, ctx replyContext, defACL string) Decision {
	e := &evaluation{c: c, s: s, defACL: defACL}
	return e.run(list, ctx)
}

// run evaluates a list until an item permits, rejects or defers, as
// Postfix's generic_checks does: warn_if_reject covers the next item,
// DISCARD ends every list, and a pending defer_if_permit together with a
// pending defer_if_reject ends the list.
func (e *evaluation) run(list []restriction, ctx replyContext) Decision {
	s := e.s
	saved := s.recursion
	s.recursion++
	defer func() {
		s.recursion = saved
		if s.warnIfReject >= s.recursion {
			s.warnIfReject = 0
		}
	}()
	if s.recursion > 100 {
		e.c.warn("restriction list causes unreasonable recursion")
		return e.enforce(serverConfigError)
	}
	for i := 0; i < len(list); i++ {
		if s.Discard {
			break
		}
		r := list[i]
		if r.name == "warn_if_reject" {
			if s.warnIfReject == 0 {
				s.warnIfReject = s.recursion
			}
			continue
		}
		d := e.apply(r, ctx)
		if isRejection(d) && !d.enforced {
			d = e.enforce(d)
		}
		if s.warnIfReject >= s.recursion {
			s.warnIfReject = 0
		}
		if d.Action != Dunno {
			return d
		}
		if s.deferIfPermit.active && s.deferIfReject.active {
			break
		}
	}
	return Decision{}
}

// enforce turns a restriction's rejection into the reply, as Postfix's
// smtpd_check_reject does: a bad code becomes "450 4.7.1 Service
// unavailable"; under warn_if_reject a policy rejection is only logged
// ("reject_warning") and the request goes on; a pending defer_if_reject
// replaces a 5XX; soft_bounce makes 5XX 4XX; the DSN class follows the
// code; and the rejection is logged.
func (e *evaluation) enforce(d Decision) Decision {
	c, s := e.c, e.s
	if !isRejection(d) {
		return d
	}
	warnOnly := s.warnIfReject > 0 && !d.software
	if d.Code < 400 || d.Code > 599 {
		c.warn(fmt.Sprintf("SMTP reply code configuration error: %d %s %s", d.Code, d.DSN, d.Text))
		d.Code, d.DSN, d.Text = 450, "4.7.1", "Service unavailable"
	} else if !dsn.Valid(d.DSN) {
		c.warn(fmt.Sprintf("DSN detail code configuration error: %d %s %s", d.Code, d.DSN, d.Text))
		d.Code, d.DSN, d.Text = 450, "4.7.1", "Service unavailable"
	}
	if max := 510 - len(d.DSN) - 5; len(d.Text) > max {
		d.Text = d.Text[:max]
	}
	d.Text = printable(d.Text)
	if !warnOnly && s.deferIfReject.active && d.Code/100 == 5 {
		s.warnIfReject, s.deferIfReject.active = 0, false
		return e.enforce(s.deferIfReject.reply)
	}
	if c.set.SoftBounce && d.Code/100 == 5 {
		d.Code -= 100
	}
	d.DSN = dsnForCode(d.Code, d.DSN)
	d.Action = actionFor(d.Code)
	d.enforced = true
	if warnOnly {
		c.log(whatsup("reject_warning", s.where, s, d.Reply()))
		return Decision{}
	}
	c.log(whatsup("reject", s.where, s, d.Reply()))
	return d
}

// printable replaces control characters with spaces.
func printable(s string) string {
	if strings.IndexFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f }) < 0 {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// deferIfPermit remembers the first defer_if_permit reply of the stage.
func (e *evaluation) deferIfPermit(d Decision) Decision {
	if !e.s.deferIfPermit.active {
		e.s.deferIfPermit = deferral{active: true, reply: d}
	}
	return Decision{}
}

// deferIfReject remembers the first defer_if_reject reply of the stage.
func (e *evaluation) deferIfReject(d Decision) Decision {
	if !e.s.deferIfReject.active {
		e.s.deferIfReject = deferral{active: true, reply: d}
	}
	return Decision{}
}

// reject builds a rejection "CODE DSN <name>: class rejected: text".
func reject(code int, dsn string, ctx replyContext, text string) Decision {
	return Decision{Action: actionFor(code), Code: code, DSN: dsnForCode(code, dsn), Text: fmt.Sprintf("<%s>: %s rejected: %s", ctx.name, ctx.class, text)}
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
	case classRecipient:
		m = recipientDetails
	case classSender:
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

// actionFor maps a reply code to Reject (5xx) or Defer (4xx).
func actionFor(code int) Action {
	if code/100 == 4 {
		return Defer
	}
	return Reject
}

// permitIf turns a test into Permit or Dunno.
func permitIf(ok bool) Decision {
	if ok {
		return Decision{Action: Permit}
	}
	return Decision{}
}

// serverConfigError is Postfix's reply when the configuration is wrong.
var serverConfigError = Decision{Action: Defer, Code: 451, DSN: "4.3.5", Text: "Server configuration error", software: true}

// tempFailure is the reply for a table that cannot be read.
func tempFailure(name string) Decision {
	return Decision{Action: Defer, Code: 451, DSN: "4.3.0", Text: fmt.Sprintf("<%s>: Temporary lookup failure", name), software: true}
}
