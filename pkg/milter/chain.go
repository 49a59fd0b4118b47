// A Chain: one session per milter for one SMTP session (or one local
// submission), the events at each SMTP command, and the content stages.

package milter

import (
	"bytes"
	"net"
	"strconv"
	"strings"

	gomilter "github.com/d--j/go-milter"
)

// Client describes the SMTP client for the connect and HELO macros.
type Client struct {
	Name, Reverse, Addr, Port string
	// NameStatus is {client_resolve}: OK, FORGED, TEMP or FAIL.
	NameStatus             string
	DaemonAddr, DaemonPort string
	// Connections is {client_connections}: the client's concurrent
	// connections as anvil counts them ("0" when not counted).
	Connections string
}

// memberState is where one milter is in the session.
type memberState int

const (
	active       memberState = iota
	acceptedConn             // accepted at CONNECT or HELO: no more events
	rejectedConn             // rejected at CONNECT or HELO: reply stays
	failed                   // unusable: milter_default_action applies
	acceptedMsg              // accepted or discarded this message
)

// member is one milter of a chain.
type member struct {
	spec      Spec
	sess      *gomilter.ClientSession
	state     memberState
	reply     string // the reply of rejectedConn and failed (tempfail, reject)
	hold      bool   // failed with default_action = quarantine
	inMessage bool   // MAIL was sent and the message not ended
	rcpts     int    // RCPTs of this message it saw
}

// Chain is one SMTP session's milters.
type Chain struct {
	s       *Settings
	members []*member
	macros  *macros
	log     Warner
	helo    bool // a HELO event was sent
}

// Open connects to every milter in specs and negotiates; a milter that
// cannot be reached is handled by its default_action from then on.
func Open(s *Settings, specs []Spec, log Warner) *Chain {
	c := &Chain{s: s, macros: newMacros(s.MacroDefaults), log: log}
	c.macros.set(gomilter.MacroMTAFQDN, s.MyHostname)
	c.macros.set(gomilter.MacroDaemonName, s.DaemonName)
	c.macros.set(gomilter.MacroMTAVersion, s.Version)
	for _, sp := range specs {
		m := &member{spec: sp}
		client := gomilter.NewClient(sp.Network, sp.Address,
			gomilter.WithDialer(&net.Dialer{Timeout: sp.ConnectTimeout}),
			gomilter.WithReadTimeout(max(sp.CommandTimeout, sp.ContentTimeout)), gomilter.WithWriteTimeout(sp.CommandTimeout),
			gomilter.WithMaximumVersion(sp.Protocol),
			gomilter.WithActions(gomilter.AllClientSupportedActionMasks),
			gomilter.WithoutDefaultMacros(),
			gomilter.WithMacroRequest(gomilter.StageConnect, s.Macros[gomilter.StageConnect]),
			gomilter.WithMacroRequest(gomilter.StageHelo, s.Macros[gomilter.StageHelo]),
			gomilter.WithMacroRequest(gomilter.StageMail, s.Macros[gomilter.StageMail]),
			gomilter.WithMacroRequest(gomilter.StageRcpt, s.Macros[gomilter.StageRcpt]),
			gomilter.WithMacroRequest(gomilter.StageData, s.Macros[gomilter.StageData]),
			gomilter.WithMacroRequest(gomilter.StageEOH, s.Macros[gomilter.StageEOH]),
			gomilter.WithMacroRequest(gomilter.StageEOM, s.Macros[gomilter.StageEOM]),
		)
		sess, err := client.Session(c.macros)
		if err != nil {
			log.Warning("connect to Milter service %s: %s", sp.Name, errText(err))
			c.fail(m)
		} else {
			m.sess = sess
		}
		c.members = append(c.members, m)
	}
	return c
}

// Len is the number of milters.
func (c *Chain) Len() int { return len(c.members) }

// Close ends every session.
func (c *Chain) Close() {
	for _, m := range c.members {
		if m.sess != nil {
			m.sess.Close()
		}
	}
}

// fail puts m in the failed state with its default action.
func (c *Chain) fail(m *member) {
	if m.sess != nil {
		m.sess.Close()
		m.sess = nil
	}
	m.state, m.reply, m.hold = failed, "", false
	switch m.spec.DefaultAction {
	case "reject":
		m.reply = replyReject
	case "tempfail":
		m.reply = replyTempfail
	case "quarantine":
		m.hold = true
	}
}

// reply is the SMTP reply of a rejecting action.
func reply(act *gomilter.Action) string {
	switch act.Type {
	case gomilter.ActionReject:
		return replyReject
	case gomilter.ActionTempFail:
		return replyTempfail
	}
	return strings.TrimRight(act.SMTPReply, "\r\n")
}

// event sends one event to each milter in turn. connLevel events
// (CONNECT, HELO) make an accept or a rejection last for the session.
func (c *Chain) event(connLevel bool, send func(m *member) (*gomilter.Action, error)) Verdict {
	for _, m := range c.members {
		switch m.state {
		case failed, rejectedConn:
			if m.reply != "" {
				return Verdict{Reply: m.reply}
			}
			continue
		case acceptedConn, acceptedMsg:
			continue
		}
		act, err := send(m)
		if err != nil {
			c.log.Warning("milter %s: %v", m.spec.Name, err)
			c.fail(m)
			if m.reply != "" {
				return Verdict{Reply: m.reply}
			}
			continue
		}
		if act == nil {
			continue
		}
		switch act.Type {
		case gomilter.ActionAccept:
			if connLevel {
				m.state = acceptedConn
			} else {
				m.state = acceptedMsg
			}
		case gomilter.ActionDiscard:
			m.state = acceptedMsg
			return Verdict{Discard: true}
		case gomilter.ActionReject, gomilter.ActionTempFail, gomilter.ActionRejectWithCode:
			r := reply(act)
			if connLevel {
				m.state, m.reply = rejectedConn, r
			}
			return Verdict{Reply: r}
		}
	}
	return Verdict{}
}

// Connect sends the connect event.
func (c *Chain) Connect(cl Client) Verdict {
	mac := c.macros
	name := cl.Reverse + " [" + cl.Addr + "]"
	if !strings.EqualFold(cl.Name, cl.Reverse) {
		name += " (may be forged)"
	}
	mac.set("_", name)
	mac.set(gomilter.MacroClientAddr, cl.Addr)
	port := cl.Port
	if port == "" {
		port = "0"
	}
	mac.set(gomilter.MacroClientPort, port)
	mac.set(gomilter.MacroClientName, cl.Name)
	mac.set(gomilter.MacroClientPTR, cl.Reverse)
	mac.set("{client_resolve}", cl.NameStatus)
	mac.set(gomilter.MacroDaemonAddr, cl.DaemonAddr)
	mac.set(gomilter.MacroDaemonPort, cl.DaemonPort)
	mac.set(gomilter.MacroClientConnections, cl.Connections)
	family := gomilter.FamilyInet
	if strings.Contains(cl.Addr, ":") {
		family = gomilter.FamilyInet6
	}
	p, _ := strconv.Atoi(port)
	return c.event(true, func(m *member) (*gomilter.Action, error) {
		return m.sess.Conn(cl.Name, family, uint16(p), cl.Addr)
	})
}

// SetTLS sets the TLS macros (after STARTTLS).
func (c *Chain) SetTLS(version, cipher, bits string) {
	c.macros.set(gomilter.MacroTlsVersion, version)
	c.macros.set(gomilter.MacroCipher, cipher)
	c.macros.set(gomilter.MacroCipherBits, bits)
}

// SetCert sets {cert_subject} and {cert_issuer}: the common names of a
// trusted client certificate.
func (c *Chain) SetCert(subject, issuer string) {
	c.macros.set(gomilter.MacroCertSubject, subject)
	c.macros.set(gomilter.MacroCertIssuer, issuer)
}

// SetAuth sets the SASL macros (after AUTH).
func (c *Chain) SetAuth(method, username, sender string) {
	c.macros.set(gomilter.MacroAuthType, method)
	c.macros.set(gomilter.MacroAuthAuthen, username)
	c.macros.set(gomilter.MacroAuthAuthor, sender)
}

// Helo sends the HELO/EHLO event.
func (c *Chain) Helo(helo string) Verdict {
	c.helo = true
	return c.event(true, func(m *member) (*gomilter.Action, error) { return m.sess.Helo(helo) })
}

// Resolved is what an address resolves to, for the {mail_addr},
// {mail_host}, {mail_mailer} and {rcpt_*} macros: the rewritten address
// in external form (user@$myorigin for a bare user), the nexthop and the
// transport, as Postfix's trivial-rewrite gives them.
type Resolved struct {
	Addr, Host, Mailer string
}

// Mail sends the MAIL FROM event: sender as the client gave it (external
// form, without angle brackets), its ESMTP arguments, and what it
// resolves to. The client's name
// stands in for a HELO the client did not send.
func (c *Chain) Mail(sender, args string, r Resolved, clientName string) Verdict {
	if !c.helo {
		if v := c.Helo(clientName); v.Stop() {
			return v
		}
	}
	c.macros.set(gomilter.MacroMailAddr, r.Addr)
	c.macros.set(gomilter.MacroMailHost, r.Host)
	c.macros.set(gomilter.MacroMailMailer, r.Mailer)
	return c.event(false, func(m *member) (*gomilter.Action, error) {
		m.inMessage = true
		// The client session puts the angle brackets around it.
		return m.sess.Mail(sender, args)
	})
}

// SetQueueID sets the i macro once the queue file exists.
func (c *Chain) SetQueueID(id string) {
	c.macros.set(gomilter.MacroQueueId, id)
}

// Rcpt sends the RCPT TO event: the address as the client gave it
// (external form, without angle brackets), its ESMTP arguments, and what
// it resolves to.
func (c *Chain) Rcpt(rcpt, args string, r Resolved) Verdict {
	c.macros.set(gomilter.MacroRcptAddr, r.Addr)
	c.macros.set(gomilter.MacroRcptHost, r.Host)
	c.macros.set(gomilter.MacroRcptMailer, r.Mailer)
	return c.event(false, func(m *member) (*gomilter.Action, error) {
		act, err := m.sess.Rcpt(rcpt, args)
		if err == nil && (act == nil || !act.StopProcessing()) {
			m.rcpts++
		}
		return act, err
	})
}

// RcptRejected sends the RCPT event of a recipient the restrictions
// rejected to the milters that asked for those (SMFIP_RCPT_REJ), as
// Postfix does: {rcpt_mailer} is "error", {rcpt_host} the enhanced status
// code of the reject and {rcpt_addr} its text after the address
// ("550 5.1.1 <a@b>: Recipient address rejected: ..." gives "5.1.1" and
// "Recipient address rejected: ..."). Their answers change nothing: the
// recipient stays rejected.
func (c *Chain) RcptRejected(rcpt, args, reject string) {
	rest := reject[min(4, len(reject)):]
	status, text, ok := strings.Cut(rest, " ")
	if ok {
		_, text, _ = strings.Cut(text, " ")
	}
	c.macros.set(gomilter.MacroRcptAddr, text)
	c.macros.set(gomilter.MacroRcptHost, status)
	c.macros.set(gomilter.MacroRcptMailer, "error")
	c.event(false, func(m *member) (*gomilter.Action, error) {
		if !m.sess.ProtocolOption(gomilter.OptRcptRej) {
			return nil, nil
		}
		return m.sess.Rcpt(rcpt, args)
	})
}

// Unknown sends the unknown-command event with the command line.
func (c *Chain) Unknown(line string) Verdict {
	return c.event(false, func(m *member) (*gomilter.Action, error) { return m.sess.Unknown(line, nil) })
}

// Data sends the DATA event. A milter that saw no recipient is left out
// of this message.
func (c *Chain) Data(queueID string) Verdict {
	c.macros.set(gomilter.MacroQueueId, queueID)
	v := c.event(false, func(m *member) (*gomilter.Action, error) {
		if m.rcpts == 0 {
			m.state = acceptedMsg
			return nil, nil
		}
		return m.sess.DataStart()
	})
	if v.Stop() {
		return v
	}
	for _, m := range c.members {
		if m.state == failed && m.hold {
			return Verdict{Hold: true, HoldReason: holdDefault}
		}
	}
	return v
}

// Content runs the content stages of milter i on msg: its headers, the
// end of the headers, the body and the end of the message. It returns
// the verdict and the edits the milter asked for.
func (c *Chain) Content(i int, msg *Message) (Verdict, []Edit) {
	if i < 0 || i >= len(c.members) {
		return Verdict{}, nil
	}
	m := c.members[i]
	switch m.state {
	case failed:
		if m.hold {
			return Verdict{Hold: true, HoldReason: holdDefault}, nil
		}
		return Verdict{Reply: m.reply}, nil
	case rejectedConn:
		return Verdict{Reply: m.reply}, nil
	case acceptedConn, acceptedMsg:
		return Verdict{}, nil
	}
	c.macros.set(gomilter.MacroQueueId, msg.QueueID)
	mods, act, ended, err := c.content(m, msg)
	if ended {
		m.inMessage = false
	}
	if err != nil {
		c.log.Warning("milter %s: %v", m.spec.Name, err)
		c.fail(m)
		if m.hold {
			return Verdict{Hold: true, HoldReason: holdDefault}, nil
		}
		return Verdict{Reply: m.reply}, nil
	}
	if act == nil {
		return Verdict{}, nil
	}
	switch act.Type {
	case gomilter.ActionDiscard:
		m.state = acceptedMsg
		return Verdict{Discard: true}, nil
	case gomilter.ActionReject, gomilter.ActionTempFail, gomilter.ActionRejectWithCode:
		return Verdict{Reply: reply(act)}, nil
	}
	return Verdict{}, edits(mods, m.sess.ProtocolOption(gomilter.OptHeaderLeadingSpace))
}

// content sends the headers, the body and the end of the message.
// ended is true when the end of the message was reached (the milter's
// session is then ready for the next message).
func (c *Chain) content(m *member, msg *Message) (mods []gomilter.ModifyAction, act *gomilter.Action, ended bool, err error) {
	s := m.sess
	leadSpace := s.ProtocolOption(gomilter.OptHeaderLeadingSpace)
	for _, h := range msg.Headers {
		value := strings.ReplaceAll(h.Value, "\n", "\r\n")
		if !leadSpace {
			value = strings.TrimPrefix(value, " ")
		}
		act, err := s.HeaderField(h.Name, value, nil)
		if err != nil || act.Type != gomilter.ActionContinue {
			return nil, act, false, err
		}
	}
	if act, err := s.HeaderEnd(); err != nil || act.Type != gomilter.ActionContinue {
		return nil, act, false, err
	}
	body := bytes.ReplaceAll(msg.Body, []byte("\n"), []byte("\r\n"))
	for first := true; first || len(body) > 0; first = false {
		n := min(len(body), maxBodyChunk)
		act, err := s.BodyChunk(body[:n])
		if err != nil || act.Type != gomilter.ActionContinue {
			return nil, act, false, err
		}
		body = body[n:]
		if s.Skip() {
			break
		}
	}
	mods, act, err = s.End()
	return mods, act, err == nil, err
}

// maxBodyChunk is the largest body piece sent at once (the protocol's
// 64 KB less one).
const maxBodyChunk = 65535

// Reset ends the current message for every milter (RSET, a new MAIL,
// the end of the message), so that the next message starts afresh.
func (c *Chain) Reset() {
	for _, m := range c.members {
		if m.state == acceptedMsg {
			m.state = active
		}
		if m.state == active && m.inMessage {
			if err := m.sess.Abort(nil); err != nil {
				c.log.Warning("milter %s: %v", m.spec.Name, err)
				c.fail(m)
			}
		}
		m.inMessage, m.rcpts = false, 0
	}
	c.macros.set(gomilter.MacroQueueId, "")
	for _, name := range []gomilter.MacroName{gomilter.MacroMailAddr, gomilter.MacroMailHost, gomilter.MacroMailMailer,
		gomilter.MacroRcptAddr, gomilter.MacroRcptHost, gomilter.MacroRcptMailer} {
		c.macros.set(name, "")
	}
}

// macros are the values sent to the milters; milter_macro_defaults
// stand in for the ones without a value.
type macros struct {
	values, defaults map[string]string
}

func newMacros(defaults map[string]string) *macros {
	return &macros{values: map[string]string{}, defaults: defaults}
}

// set gives name a value; "" leaves it without one.
func (m *macros) set(name gomilter.MacroName, value string) {
	if value == "" {
		delete(m.values, string(name))
		return
	}
	m.values[string(name)] = value
}

func (m *macros) Get(name gomilter.MacroName) string {
	v, _ := m.GetEx(name)
	return v
}

func (m *macros) GetEx(name gomilter.MacroName) (string, bool) {
	if v, ok := m.values[string(name)]; ok {
		return v, true
	}
	v, ok := m.defaults[string(name)]
	return v, ok
}
