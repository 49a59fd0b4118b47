// Milters in cleanup. After header_checks and body_checks have run (on
// a copy of the content in memory), each milter in turn sees the message
// with the edits of the ones before: smtpd_milters through the smtpd
// that holds their sessions (MilterInspect over the cleanup connection),
// non_smtpd_milters through sessions cleanup opens itself, emulating the
// SMTP events of a local submission as Postfix does. The edits, after
// milter_header_checks, go into the queue file.

package cleanup

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/postern/postern/pkg/addr"
	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/milter"
	"github.com/postern/postern/pkg/mimestate"
)

// inspector runs the content stages of a submission's milters.
type inspector interface {
	count() int
	// inspect runs milter i on m and returns its verdict and edits; an
	// error means the conversation with the client broke.
	inspect(i int, m *milter.Message) (milter.Verdict, []milter.Edit, error)
	close()
}

// milters returns the inspector for sub, nil when no milter applies.
func (s *Server) milters(ctx context.Context, sub *ipc.CleanupSubmission, conn *ipc.Conn, id string) inspector {
	if sub.Flags&ipc.CleanupFlagMilter == 0 || s.Settings.Milter == nil {
		return nil
	}
	if sub.Milters > 0 {
		return &remoteMilters{ctx: ctx, conn: conn, n: int(sub.Milters), id: id}
	}
	if len(s.Settings.NonSMTPDMilters) == 0 {
		return nil
	}
	return &localMilters{s: s, sub: sub, id: id}
}

// memorySink holds the checked content until the milters have seen it.
type memorySink struct{ bytes.Buffer }

func (m *memorySink) ContentLength() int64 { return int64(m.Len()) }

// remoteMilters asks smtpd, which holds the milter sessions.
type remoteMilters struct {
	ctx  context.Context
	conn *ipc.Conn
	n    int
	id   string
}

func (r *remoteMilters) count() int { return r.n }
func (r *remoteMilters) close()     {}

func (r *remoteMilters) inspect(i int, m *milter.Message) (milter.Verdict, []milter.Edit, error) {
	if err := r.conn.Send(r.ctx, &ipc.MilterInspect{Index: uint32(i), QueueID: r.id}); err != nil {
		return milter.Verdict{}, nil, err
	}
	if _, err := r.conn.SendContent(r.ctx, bytes.NewReader(m.Content())); err != nil {
		return milter.Verdict{}, nil, err
	}
	var res ipc.MilterResult
	if err := r.conn.Expect(r.ctx, &res); err != nil {
		return milter.Verdict{}, nil, err
	}
	v := milter.Verdict{Reply: res.Reply, Discard: res.Discard, Hold: res.Hold, HoldReason: res.HoldReason}
	var edits []milter.Edit
	for _, e := range res.Edits {
		edits = append(edits, milter.Edit{Kind: milter.EditKind(e.Kind), Index: int(e.Index), Name: e.Name, Value: e.Value})
	}
	if res.Body {
		body, err := io.ReadAll(r.conn.ContentReader(r.ctx))
		if err != nil {
			return milter.Verdict{}, nil, err
		}
		edits = append(edits, milter.Edit{Kind: milter.EditReplaceBody, Body: body})
	}
	return v, edits, nil
}

// localMilters are non_smtpd_milters: cleanup opens the sessions and
// emulates the SMTP events, with a local submission appearing to come
// from localhost.
type localMilters struct {
	s     *Server
	sub   *ipc.CleanupSubmission
	id    string
	chain *milter.Chain
	pre   milter.Verdict // the verdict of the emulated SMTP events
	where string         // the event that gave it
}

func (l *localMilters) count() int { return len(l.s.Settings.NonSMTPDMilters) }

func (l *localMilters) close() {
	if l.chain != nil {
		l.chain.Close()
	}
}

// open connects and sends the events up to DATA.
func (l *localMilters) open() {
	st := l.s.Settings
	l.chain = milter.Open(st.Milter, st.NonSMTPDMilters, l.s.Log)
	cl := milter.Client{Name: "localhost", Reverse: "localhost", Addr: "127.0.0.1", Port: "0", NameStatus: "OK"}
	if !l.sub.Local() {
		cl = milter.Client{Name: l.sub.ClientName, Reverse: l.sub.ClientName, Addr: l.sub.ClientAddress, Port: l.sub.ClientPort, NameStatus: "OK"}
	}
	helo := l.sub.HeloName
	if helo == "" {
		helo = cl.Name
	}
	events := []struct {
		where string
		run   func() milter.Verdict
	}{
		{"CONNECT", func() milter.Verdict { return l.chain.Connect(cl) }},
		{"EHLO", func() milter.Verdict { return l.chain.Helo(helo) }},
		{"MAIL", func() milter.Verdict {
			from := external(l.sub.Sender)
			return l.chain.Mail(from, "", milter.Resolved{Addr: from, Host: domainOf(l.sub.Sender)}, cl.Name)
		}},
	}
	for _, r := range l.sub.Recipients {
		events = append(events, struct {
			where string
			run   func() milter.Verdict
		}{"RCPT", func() milter.Verdict {
			to := external(r.Address)
			return l.chain.Rcpt(to, "", milter.Resolved{Addr: to, Host: domainOf(r.Address)})
		}})
	}
	events = append(events, struct {
		where string
		run   func() milter.Verdict
	}{"DATA", func() milter.Verdict { return l.chain.Data(l.id) }})
	for _, e := range events {
		v := e.run()
		if v.Hold && !l.pre.Hold {
			l.pre.Hold, l.pre.HoldReason, l.where = true, v.HoldReason, e.where
		}
		if v.Stop() {
			hold, reason := l.pre.Hold, l.pre.HoldReason
			l.pre, l.where = v, e.where
			l.pre.Hold, l.pre.HoldReason = hold, reason
			return
		}
	}
}

func (l *localMilters) inspect(i int, m *milter.Message) (milter.Verdict, []milter.Edit, error) {
	if l.chain == nil {
		l.open()
	}
	if l.pre.Stop() {
		if i == 0 {
			return l.pre, nil, nil
		}
		return milter.Verdict{}, nil, nil
	}
	v, edits := l.chain.Content(i, m)
	if i == 0 && l.pre.Hold && !v.Hold {
		v.Hold, v.HoldReason = true, l.pre.HoldReason
	}
	return v, edits, nil
}

// external is an address in external (quoted) form, as Postfix's
// cleanup gives it to milters in the MAIL and RCPT events and their
// {mail_addr} and {rcpt_addr} macros; the null sender stays empty.
func external(address string) string {
	if address == "" {
		return ""
	}
	return addr.Split(address).String()
}

func domainOf(a string) string {
	if i := strings.LastIndexByte(a, '@'); i >= 0 {
		return a[i+1:]
	}
	return ""
}

// runMilters passes the checked content in mem through the milters,
// then writes the envelope (with the milters' changes) and the content
// to the queue file. A rejection, discard or hold ends in cw.verdict or
// in the status it returns; an error means the client went away.
func (s *Server) runMilters(cw *contentWriter, mem *memorySink, ins inspector) (ipc.CleanupStatus, string, error) {
	sub, w := cw.sub, cw.w
	msg := milter.ParseMessage(mem.Bytes())
	msg.QueueID, msg.Sender = w.ID, sub.Sender
	for _, r := range sub.Recipients {
		msg.Recipients = append(msg.Recipients, r.Address)
	}
	var result milter.Verdict
	where := "END-OF-MESSAGE"
	for i := 0; i < ins.count(); i++ {
		v, edits, err := ins.inspect(i, msg)
		if err != nil {
			return 0, "", err
		}
		if l, ok := ins.(*localMilters); ok && l.where != "" && i == 0 {
			where = l.where
		}
		if v.Hold && !result.Hold {
			result.Hold, result.HoldReason = true, v.HoldReason
		}
		if v.Stop() {
			result.Reply, result.Discard = v.Reply, v.Discard
			break
		}
		milter.Apply(msg, s.milterHeaderChecks(cw, edits), &result)
		where = "END-OF-MESSAGE"
	}
	v := &cw.verdict
	switch {
	case result.Reply != "":
		code, text, _ := strings.Cut(result.Reply, " ")
		s.logMilter(cw.log, w.ID, "milter-reject", where, text, sub)
		if sub.Flags&ipc.CleanupFlagBounce == 0 || code[0] != '5' {
			status := ipc.CleanupStatContent
			if code[0] == '4' {
				status = ipc.CleanupStatDefer
			}
			return status, result.Reply, nil
		}
		// A local submission is not refused: it bounces.
		if text == "" || text[0] != '5' {
			text = "5.7.1 " + text
		}
		v.reason = text
	case result.Discard:
		s.logMilter(cw.log, w.ID, "milter-discard", where, "milter triggers DISCARD action", sub)
		v.discard = true
		return 0, "", nil
	case result.Hold:
		reason := result.HoldReason
		if reason == "" {
			reason = "milter triggers HOLD action"
		}
		s.logMilter(cw.log, w.ID, "milter-hold", where, reason, sub)
		v.hold = true
	}
	changed := *sub
	changed.Sender = msg.Sender
	changed.Recipients = nil
	for _, r := range msg.Recipients {
		rcpt := ipc.Recipient{Address: r}
		for _, old := range sub.Recipients {
			if old.Address == r {
				rcpt = old
				break
			}
		}
		changed.Recipients = append(changed.Recipients, rcpt)
	}
	env, status, reason := s.envelope(&changed, w.ID, cw.local, cw.localClient, cw.now, cw.log)
	if status != 0 {
		return status, reason, nil
	}
	if err := w.WriteEnvelope(env); err != nil {
		cw.log.Warning("%s: %v", w.ID, err)
		return ipc.CleanupStatWrite, replyWriteError, nil
	}
	if _, err := w.Write(msg.Content()); err != nil {
		cw.log.Warning("%s: %v", w.ID, err)
		return ipc.CleanupStatWrite, replyWriteError, nil
	}
	if limit := s.Settings.MessageSizeLimit; limit > 0 && w.ContentLength() > limit {
		cw.log.Warning("%s: queue file size limit exceeded", w.ID)
		return ipc.CleanupStatSize, replyTooBig, nil
	}
	return 0, "", nil
}

// milterHeaderChecks applies milter_header_checks to the headers the
// milters add or change: a header may be dropped (IGNORE) or replaced,
// and the other actions act on the message as in header_checks.
func (s *Server) milterHeaderChecks(cw *contentWriter, edits []milter.Edit) []milter.Edit {
	checks := s.Settings.MilterHeaderChecks
	if checks.Empty() || cw.sub.Flags&ipc.CleanupFlagFilter == 0 {
		return edits
	}
	var out []milter.Edit
	for _, e := range edits {
		isHeader := e.Kind == milter.EditAddHeader || e.Kind == milter.EditInsertHeader ||
			(e.Kind == milter.EditChangeHeader && e.Value != "")
		if !isHeader {
			out = append(out, e)
			continue
		}
		filtering := cw.filtering
		cw.filtering = true
		text := e.Name + ":" + e.Value
		res := cw.check(checks, contextHeader, text)
		cw.filtering = filtering
		// As in Postfix, PREPEND is not carried out here.
		switch {
		case res.drop:
			continue
		case res.replace != "" && mimestate.IsHeader([]byte(res.replace)):
			e.Name, e.Value, _ = strings.Cut(res.replace, ":")
		}
		out = append(out, e)
	}
	return out
}

// logMilter logs a milter's verdict as Postfix's cleanup does:
// "ID: milter-reject: END-OF-MESSAGE from host[addr]: 5.7.1 text;
// from=<a> to=<b> proto=ESMTP helo=<h>".
func (s *Server) logMilter(log *messageLog, id, action, where, text string, sub *ipc.CleanupSubmission) {
	name, address, proto, helo := sub.ClientName, sub.ClientAddress, sub.Protocol, sub.HeloName
	if sub.Local() {
		name, address, proto, helo = "localhost", "127.0.0.1", "", ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s: %s from %s[%s]: %s; from=<%s>", id, action, where, name, address, text, sub.Sender)
	if n := len(sub.Recipients); n > 0 {
		fmt.Fprintf(&b, " to=<%s>", addr.Split(s.Settings.qualify(sub.Recipients[n-1].Address)).String())
	}
	if proto != "" {
		fmt.Fprintf(&b, " proto=%s", proto)
	}
	if helo != "" {
		fmt.Fprintf(&b, " helo=<%s>", helo)
	}
	log.Info("%s", b.String())
}
