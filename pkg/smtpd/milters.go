// smtpd_milters: smtpd holds one session per milter for each SMTP
// session, sends each event at its command (CONNECT, HELO/EHLO, MAIL,
// RCPT, DATA) with Postfix's replies and log lines, and answers cleanup's
// requests for the content stages once header and body checks have run.

package smtpd

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/postern/postern/pkg/addr"
	"github.com/postern/postern/pkg/config"
	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/maps"
	"github.com/postern/postern/pkg/milter"
	"github.com/postern/postern/pkg/policy"
)

// MilterSettings are smtpd's milters: smtpd_milters, smtpd_milter_maps
// and the milter_* parameters.
type MilterSettings struct {
	Milter *milter.Settings
	// Specs is smtpd_milters, parsed.
	Specs []milter.Spec
	// Maps is smtpd_milter_maps: per client address, a milter list
	// that replaces smtpd_milters, or DISABLE.
	Maps []maps.Table
}

// loadMilters reads the milter settings; with receive_override_options
// = no_milters smtpd uses none.
func (s *Settings) loadMilters(cfg *config.Config, noMilters bool) error {
	var p struct {
		Milters string   `param:"smtpd_milters"`
		Maps    []string `param:"smtpd_milter_maps"`
	}
	if err := cfg.Fill(&p); err != nil {
		return err
	}
	if noMilters || (strings.TrimSpace(p.Milters) == "" && len(p.Maps) == 0) {
		return nil
	}
	ms := &MilterSettings{}
	var err error
	if ms.Milter, err = milter.FromConfig(cfg); err != nil {
		return err
	}
	if strings.TrimSpace(p.Milters) != "DISABLE" {
		if ms.Specs, err = ms.Milter.Specs(p.Milters); err != nil {
			return fmt.Errorf("smtpd_milters: %w", err)
		}
	}
	for _, spec := range p.Maps {
		t, err := policy.OpenTable(spec)
		if err != nil {
			ms.Close()
			return err
		}
		ms.Maps = append(ms.Maps, t)
	}
	s.Milters = ms
	return nil
}

// Close releases smtpd_milter_maps.
func (ms *MilterSettings) Close() {
	for _, t := range ms.Maps {
		t.Close()
	}
}

// specsFor returns the milters for a client address: the first
// smtpd_milter_maps match, else smtpd_milters.
func (ms *MilterSettings) specsFor(clientAddr string) ([]milter.Spec, error) {
	for _, t := range ms.Maps {
		value, found, err := t.Lookup(clientAddr)
		if err != nil {
			return nil, fmt.Errorf("smtpd_milter_maps: %s: table lookup problem", t.Spec())
		}
		if !found {
			continue
		}
		if strings.TrimSpace(value) == "DISABLE" {
			return nil, nil
		}
		return ms.Milter.Specs(value)
	}
	return ms.Specs, nil
}

// openMilters connects to the session's milters and sends the connect
// event. It returns false when a milter's 421 ends the session.
func (s *session) openMilters() bool {
	ms := s.set.Milters
	if ms == nil {
		return true
	}
	specs, err := ms.specsFor(s.clientAddr)
	if err != nil {
		// As for any other table failure: try again later.
		s.srv.Log.Warning("%v", err)
		s.reply("421 4.3.0 " + s.set.Hostname + " Server configuration error")
		return false
	}
	if len(specs) == 0 {
		return true
	}
	s.milters = milter.Open(ms.Milter, specs, milterLog{s.srv.Log})
	cl := milter.Client{Name: s.names.Name, Reverse: s.names.Reverse, Addr: s.clientAddr, Port: s.clientPort,
		NameStatus: nameStatus(s.names), DaemonAddr: s.ps.ServerAddr, DaemonPort: s.ps.ServerPort,
		Connections: strconv.Itoa(s.connCount)}
	s.milterTLS()
	v := s.milters.Connect(cl)
	return !s.milterVerdict("CONNECT", v, nil, nil)
}

// nameStatus is {client_resolve}: OK, TEMP, FORGED (a reverse name that
// does not resolve back) or FAIL.
func nameStatus(n ClientName) string {
	switch {
	case n.Status == policy.PeerOK:
		return "OK"
	case n.Status == policy.PeerTemp:
		return "TEMP"
	case n.ReverseStatus == policy.PeerOK:
		return "FORGED"
	}
	return "FAIL"
}

// tlsMacros splits "TLSv1.3 with cipher NAME (256/256 bits)" into the
// {tls_version}, {cipher} and {cipher_bits} values.
func tlsMacros(info string) (version, cipher, bits string) {
	version, rest, _ := strings.Cut(info, " with cipher ")
	cipher, rest, _ = strings.Cut(rest, " (")
	bits, _, _ = strings.Cut(rest, "/")
	return version, cipher, bits
}

// milterTLS sets the TLS macros for the HELO event: the protocol and
// cipher, and the names of a trusted client certificate.
func (s *session) milterTLS() {
	if s.milters == nil || s.tlsInfo == "" {
		return
	}
	s.milters.SetTLS(tlsMacros(s.tlsInfo))
	if c := s.clientCert; c != nil && c.Trusted {
		s.milters.SetCert(c.CommonName, c.Issuer)
	}
}

// closeMilters ends the milter sessions.
func (s *session) closeMilters() {
	if s.milters != nil {
		s.milters.Close()
		s.milters = nil
	}
}

// milterLog passes the milter package's warnings to smtpd's log.
type milterLog struct{ log Logger }

func (l milterLog) Warning(format string, args ...any) { l.log.Warning(format, args...) }

// milterVerdict logs a milter's verdict at an SMTP command as Postfix
// does ("NOQUEUE: milter-reject: RCPT from host[addr]: 550 5.7.1 Command
// rejected; from=<a> to=<b> proto=ESMTP helo=<h>"), marks a discarded or
// held transaction, and for a 421 sends it and returns true: the session
// ends. from and to are what the line names ("" leaves them out).
func (s *session) milterVerdict(where string, v milter.Verdict, from, to *string) (disconnect bool) {
	switch {
	case v.Reply != "":
		s.logMilter("milter-reject", where, v.Reply, from, to)
		if strings.HasPrefix(v.Reply, "421") {
			s.reply(v.Reply)
			return true
		}
	case v.Discard:
		s.logMilter("milter-discard", where, "milter triggers DISCARD action", from, to)
		s.tx.discard = true
	case v.Hold:
		s.logMilter("milter-hold", where, v.HoldReason, from, to)
		s.tx.hold = true
	}
	return false
}

// logMilter writes one milter log line.
func (s *session) logMilter(action, where, text string, from, to *string) {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s: %s from %s: %s;", orDefault(s.tx.queueID, "NOQUEUE"), action, where, s.namaddr(), text)
	if from != nil {
		fmt.Fprintf(&b, " from=<%s>", *from)
	}
	if to != nil {
		fmt.Fprintf(&b, " to=<%s>", *to)
	}
	fmt.Fprintf(&b, " proto=%s%s", s.logProtocol(), s.heloLog())
	s.srv.Log.Info("%s", b.String())
}

// txSender is the transaction's sender for log lines, nil outside one.
func (s *session) txSender() *string {
	if !s.tx.active {
		return nil
	}
	from := s.tx.sender.Address.String()
	return &from
}

// lastRcpt is the last accepted recipient for log lines, nil before one.
func (s *session) lastRcpt() *string {
	if n := len(s.tx.recipients); n > 0 {
		to := addr.Split(s.tx.recipients[n-1].Address).String()
		return &to
	}
	return nil
}

// milterHelo sends the HELO/EHLO event with the new name logged. It
// returns whether the milters rejected it with 5xx (EHLO then announces
// ENHANCEDSTATUSCODES only) and whether a 421 ends the session.
func (s *session) milterHelo(verb, helo string) (rejected, disconnect bool) {
	if s.milters == nil {
		return false, false
	}
	v := s.milters.Helo(helo)
	// Logged with the new name, and the protocol as it was before.
	saved := s.helo
	s.helo = helo
	disconnect = s.milterVerdict(verb, v, nil, nil)
	s.helo = saved
	return strings.HasPrefix(v.Reply, "5"), disconnect
}

// milterMail sends the MAIL event; it returns the reply that refuses
// the command, or "".
func (s *session) milterMail(path addr.Path, args string) (reply string, disconnect bool) {
	if s.milters == nil {
		return "", false
	}
	s.milters.SetAuth(s.sasl.method, s.sasl.username, s.tx.saslSender)
	// The event carries the address in external (quoted) form, as the
	// client sends it to Postfix.
	sender := ""
	var resolved milter.Resolved
	if !path.Null {
		sender = path.Address.String()
		resolved = s.resolveMacros(path.Address.Internal())
	}
	v := s.milters.Mail(sender, args, resolved, s.clientName)
	from := path.Address.String()
	disconnect = s.milterVerdict("MAIL", v, &from, nil)
	if v.Reply != "" {
		s.milters.Reset()
	}
	return v.Reply, disconnect
}

// milterSkip reports whether the transaction's events go to no milter:
// as in Postfix, once a milter or a restriction has discarded the
// message, the milters see nothing more of it (RCPT, DATA, the content),
// the other milters included.
func (s *session) milterSkip() bool {
	return s.milters == nil || s.tx.discard || s.ps.Discard
}

// milterRcpt sends the RCPT event.
func (s *session) milterRcpt(rcpt addr.Address, args string) (reply string, disconnect bool) {
	if s.milterSkip() {
		return "", false
	}
	// As in Postfix the queue file exists from the first accepted
	// recipient on: i is empty for that one's event, set for later ones.
	s.milters.SetQueueID(s.tx.queueID)
	v := s.milters.Rcpt(rcpt.String(), args, s.resolveMacros(rcpt.Internal()))
	to := rcpt.String()
	return v.Reply, s.milterVerdict("RCPT", v, s.txSender(), &to)
}

// milterRcptRejected shows a recipient the restrictions rejected with
// reply to the milters that want rejected recipients.
func (s *session) milterRcptRejected(rcpt addr.Address, args, reply string) {
	if !s.milterSkip() {
		s.milters.RcptRejected(rcpt.String(), args, reply)
	}
}

// milterUnknown sends an unrecognized command to the milters; it
// returns their reply, which replaces smtpd's own.
func (s *session) milterUnknown(line string) (reply string, disconnect bool) {
	// Unlike the transaction's events, Postfix sends this one also
	// after a DISCARD.
	if s.milters == nil {
		return "", false
	}
	v := s.milters.Unknown(line)
	return v.Reply, s.milterVerdict("UNKNOWN", v, s.txSender(), s.lastRcpt())
}

// milterData sends the DATA event.
func (s *session) milterData() (reply string, disconnect bool) {
	if s.milterSkip() {
		return "", false
	}
	v := s.milters.Data(s.tx.queueID)
	return v.Reply, s.milterVerdict("DATA", v, s.txSender(), s.lastRcpt())
}

// resolveMacros are {mail_addr}/{rcpt_addr}, {mail_host}/{rcpt_host}
// and {mail_mailer}/{rcpt_mailer}: the rewritten address, nexthop and
// transport the address resolves to.
func (s *session) resolveMacros(address string) milter.Resolved {
	if s.srv.Resolver == nil {
		return milter.Resolved{Addr: addr.Split(address).String(), Host: strings.TrimPrefix(address[strings.LastIndexByte(address, '@')+1:], "@")}
	}
	res, err := s.srv.Resolver.Resolve(address)
	if err != nil {
		return milter.Resolved{Addr: addr.Split(address).String()}
	}
	return milter.Resolved{Addr: addr.Split(res.Recipient).String(), Host: res.Nexthop, Mailer: res.Transport}
}

// milterSubmission marks the submission for the milter round trip,
// unless the message is discarded.
func (s *session) milterSubmission(sub *ipc.CleanupSubmission) {
	if !s.milterSkip() {
		sub.Flags |= ipc.CleanupFlagMilter
		sub.Milters = uint32(s.milters.Len())
	}
}

// cleanupReply waits for cleanup's reply to a submission, running the
// content stages of the milters cleanup asks for on the way.
func (s *session) cleanupReply(ctx context.Context, cc *ipc.Conn) (ipc.CleanupReply, error) {
	for {
		m, err := cc.Receive(ctx)
		if err != nil {
			return ipc.CleanupReply{}, err
		}
		switch m := m.(type) {
		case *ipc.CleanupReply:
			return *m, nil
		case *ipc.MilterInspect:
			if err := s.milterContent(ctx, cc, m); err != nil {
				return ipc.CleanupReply{}, err
			}
		default:
			return ipc.CleanupReply{}, fmt.Errorf("unexpected %v from cleanup", m.Type())
		}
	}
}

// milterContent runs one milter's content stages on the message that
// follows req and sends cleanup the result.
func (s *session) milterContent(ctx context.Context, cc *ipc.Conn, req *ipc.MilterInspect) error {
	data, err := io.ReadAll(cc.ContentReader(ctx))
	if err != nil {
		return err
	}
	var v milter.Verdict
	var edits []milter.Edit
	msg := milter.ParseMessage(data)
	msg.QueueID = req.QueueID
	if s.milters != nil {
		v, edits = s.milters.Content(int(req.Index), msg)
	} else {
		v.Reply = "451 4.3.0 Error: milter state lost"
	}
	res := &ipc.MilterResult{Reply: v.Reply, Discard: v.Discard, Hold: v.Hold, HoldReason: v.HoldReason}
	var body []byte
	for _, e := range edits {
		if e.Kind == milter.EditReplaceBody {
			res.Body, body = true, e.Body
			continue
		}
		res.Edits = append(res.Edits, ipc.MilterEdit{Kind: uint32(e.Kind), Index: uint32(e.Index), Name: e.Name, Value: e.Value})
	}
	if err := cc.Send(ctx, res); err != nil {
		return err
	}
	if res.Body {
		_, err = cc.SendContent(ctx, bytes.NewReader(body))
	}
	return err
}

// esmtpArgs is the text after the address of MAIL FROM or RCPT TO: the
// ESMTP parameters the milters receive.
func esmtpArgs(rest string) string {
	if i := strings.IndexByte(rest, '>'); i >= 0 {
		return strings.TrimSpace(rest[i+1:])
	}
	if _, after, ok := strings.Cut(strings.TrimSpace(rest), " "); ok {
		return strings.TrimSpace(after)
	}
	return ""
}
