// Package cleanup is the cleanup daemon's logic: it takes a submission
// (envelope plus streamed content) over the cleanup ipc protocol, rewrites
// the addresses, adds the headers Postfix adds, writes the queue file to
// incoming/ durably, replies with the queue ID and wakes the queue manager.
package cleanup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/mailflow"
	"github.com/postern/postern/pkg/maillog"
	"github.com/postern/postern/pkg/maps"
	"github.com/postern/postern/pkg/queue"
)

// Replies for submissions cleanup does not queue, as Postfix words them.
const (
	replyAliasError = "451 4.6.0 Alias expansion error"
	replyTooBig     = "552 5.3.4 Error: message file too big"
	replyTooMany    = "554 5.4.0 Error: too many hops"
	replyNoRcpt     = "554 5.5.1 Error: no valid recipients"
	replyWriteError = "451 4.3.0 Error: queue file write error"
)

// Server serves cleanup requests. It is safe for concurrent use.
type Server struct {
	Settings *Settings
	Layout   *queue.Layout
	Log      *maillog.Logger
	// Verbose logs what Postfix logs only with -v (a missing qmgr).
	Verbose bool
	// Flow is the input flow control (in_flow_delay): each new message
	// takes a token or waits; nil lets every message in at once.
	Flow *mailflow.Gate

	wakeMu      sync.Mutex
	waking      bool // a goroutine is sending wake-ups to qmgr
	wakePending bool // and must send one more: a commit came after its last
}

// Serve handles one client connection: a greeting, then submissions and
// replies until the client hangs up or ctx ends. A submission may be
// preceded by a CleanupOpen, which creates its queue file at once and
// answers with the queue ID (smtpd sends it at the first accepted RCPT).
func (s *Server) Serve(ctx context.Context, nc net.Conn) {
	conn, err := ipc.Greet(ctx, nc, ipc.ProtocolCleanup)
	if err != nil {
		s.Log.Warning("%v", err)
		return
	}
	var opened *queue.Writer // created by a CleanupOpen, waiting for its submission
	defer func() {
		if opened != nil {
			// The client went away before the submission: as Postfix's
			// cleanup, remove the file it had asked for.
			if err := opened.Abandon(); err != nil {
				s.Log.Warning("%v", err)
			}
		}
	}()
	for {
		m, err := conn.Receive(ctx)
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			s.Log.Warning("%v", err)
			return
		}
		if _, ok := m.(*ipc.CleanupOpen); ok && opened == nil {
			s.admit(ctx)
			reply := &ipc.CleanupReply{}
			if opened, err = s.Layout.Create(queue.Incoming); err != nil {
				s.Log.Warning("%v", err)
				reply.Status, reply.Reason = ipc.CleanupStatWrite, replyWriteError
			} else {
				reply.QueueID = opened.ID
			}
			if err := conn.Send(ctx, reply); err != nil {
				s.Log.Warning("%v", err)
				return
			}
			continue
		}
		sub, ok := m.(*ipc.CleanupSubmission)
		if !ok {
			s.Log.Warning("%s: unexpected %v request", conn.Peer(), m.Type())
			return
		}
		w := opened
		opened = nil
		reply, err := s.submit(ctx, w, sub, conn.ContentReader(ctx), conn)
		if err != nil {
			// The content stream broke: the client is gone or confused,
			// and the half-written file is already removed.
			s.Log.Warning("%v", err)
			return
		}
		if err := conn.Send(ctx, reply); err != nil {
			s.Log.Warning("%v", err)
			return
		}
		if reply.Status == 0 && sub.Flags&(ipc.CleanupFlagHold|ipc.CleanupFlagDiscard) == 0 {
			s.wakeQueueManager()
		}
	}
}

// submit writes one message into w, or into a new queue file when w is
// nil. It returns an error only when the content could not be read to its
// end; a message cleanup rejects gets a reply.
func (s *Server) submit(ctx context.Context, w *queue.Writer, sub *ipc.CleanupSubmission, content io.Reader, conn *ipc.Conn) (*ipc.CleanupReply, error) {
	var err error
	if w == nil {
		s.admit(ctx)
		w, err = s.Layout.Create(queue.Incoming)
	}
	if err != nil {
		s.Log.Warning("%v", err)
		if _, derr := io.Copy(io.Discard, content); derr != nil {
			return nil, derr
		}
		return &ipc.CleanupReply{Status: ipc.CleanupStatWrite, Reason: replyWriteError}, nil
	}
	// The reply waits for every line about the message, also those
	// sent ahead.
	log := &messageLog{log: s.Log}
	defer log.done()
	status, reason, v, err := s.write(sub, w, content, s.milters(ctx, sub, conn, w.ID), log)
	if err != nil || status != 0 {
		if abandonErr := w.Abandon(); abandonErr != nil {
			log.Warning("%v", abandonErr)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", w.ID, err)
		}
		return &ipc.CleanupReply{Status: status, Reason: reason}, nil
	}
	if sub.Flags&ipc.CleanupFlagDiscard != 0 || v.discard {
		// Accepted and thrown away; the client or the checks logged why.
		if err := w.Abandon(); err != nil {
			log.Warning("%v", err)
		}
		return &ipc.CleanupReply{QueueID: w.ID}, nil
	}
	// The message-id line, sent ahead, waits for room in postlogd's
	// queue while the file is made durable.
	if err := w.Commit(); err != nil {
		log.Warning("%s: %v", w.ID, err)
		return &ipc.CleanupReply{Status: ipc.CleanupStatWrite, Reason: replyWriteError}, nil
	}
	if sub.Flags&ipc.CleanupFlagHold != 0 || v.hold {
		// The message is safe in incoming/ already; a failed move leaves
		// it there, to be delivered instead of held.
		if err := s.Layout.Move(w.ID, queue.Incoming, queue.Hold); err != nil {
			log.Warning("%s: %v", w.ID, err)
		} else {
			// qmgr makes no token for it.
			s.Flow.GiveBack()
		}
	}
	return &ipc.CleanupReply{QueueID: w.ID}, nil
}

// write rewrites the envelope and streams the content into w. A non-zero
// status rejects the message; an error means the content stream broke.
// Either way the content has been read to its end or to the failure. The
// verdict says what header and body checks decided. The message's
// lines go to log, where its message-id line may still be on its way
// when write returns.
func (s *Server) write(sub *ipc.CleanupSubmission, w *queue.Writer, content io.Reader, ins inspector, log *messageLog) (ipc.CleanupStatus, string, *verdict, error) {
	var mem *memorySink
	if ins != nil {
		defer ins.close()
		mem = &memorySink{}
	}
	status, reason, cw, err := s.writeContent(sub, w, content, mem, log)
	if cw == nil {
		return status, reason, &verdict{}, err
	}
	v := &cw.verdict
	if err == nil && mem == nil && sub.Flags&ipc.CleanupFlagBounce != 0 && (status == ipc.CleanupStatSize || status == ipc.CleanupStatHops) {
		// As Postfix: a local submission that is too big or has looped
		// cannot be refused either; its sender gets a bounce.
		_, text, _ := strings.Cut(reason, " ")
		v.reason, status, reason = strings.Replace(text, "Error: ", "", 1), 0, ""
	}
	if err != nil || status != 0 {
		return status, reason, v, err
	}
	if ins != nil && !v.rejected() {
		if status, reason, err := s.runMilters(cw, mem, ins); err != nil || status != 0 {
			return status, reason, v, err
		}
	}
	switch {
	case v.tableErr:
		return ipc.CleanupStatWrite, replyWriteError, v, nil
	case v.reason != "" && v.reason[0] == '5' && sub.Flags&ipc.CleanupFlagBounce != 0:
		// A local submission cannot be refused: its sender gets a bounce.
		if err := w.AddExtractedAttr(queue.Attr{Name: queue.AttrContentReject, Value: v.reason}); err != nil {
			log.Warning("%s: %v", w.ID, err)
			return ipc.CleanupStatWrite, replyWriteError, v, nil
		}
		return 0, "", v, nil
	case v.reason != "" && v.reason[0] == '4':
		return ipc.CleanupStatDefer, replyCodeDefer + " " + v.reason, v, nil
	case v.reason != "":
		return ipc.CleanupStatContent, replyCodeContent + " " + v.reason, v, nil
	case v.discard:
		return 0, "", v, nil
	}
	if err := s.extracted(cw); err != nil {
		log.Warning("%s: %v", w.ID, err)
		return ipc.CleanupStatWrite, replyWriteError, v, nil
	}
	return 0, "", v, nil
}

// writeContent writes the envelope and the content; the contentWriter
// is nil when the content was not reached.
//
// With mem (the milters run next) the content goes there instead, after
// header and body checks, and no envelope is written yet.
//
// The message's lines go to log. The message-id line of a message read
// whole without milters is sent ahead, so that it waits for room in
// postlogd's queue while the file is committed.
func (s *Server) writeContent(sub *ipc.CleanupSubmission, w *queue.Writer, content io.Reader, mem *memorySink, log *messageLog) (ipc.CleanupStatus, string, *contentWriter, error) {
	now := s.now()
	uid, local := sub.SubmitterUID, sub.Local()
	localClient, err := s.Settings.LocalHeaderClients.Match(sub)
	if err != nil {
		log.Warning("%s: %v", w.ID, err)
		_, err := io.Copy(io.Discard, content)
		return ipc.CleanupStatWrite, replyWriteError, nil, err
	}
	headerContext := s.Settings.headerContext(local || localClient)
	mapping := sub.Flags&ipc.CleanupFlagMapOK != 0
	env, status, reason := s.envelope(sub, w.ID, local, localClient, now, log)
	if status != 0 {
		_, err := io.Copy(io.Discard, content)
		return status, reason, nil, err
	}
	if mem == nil {
		if err := w.WriteEnvelope(env); err != nil {
			log.Warning("%s: %v", w.ID, err)
			_, err := io.Copy(io.Discard, content)
			return ipc.CleanupStatWrite, replyWriteError, nil, err
		}
	}
	cw := &contentWriter{s: s.Settings, w: w, sub: sub, sender: env.Sender, local: local, mapping: mapping, uid: uid, now: now,
		headerContext: headerContext, addMiss: local || localClient || s.Settings.AlwaysAddMissingHeaders, log: log,
		localClient: localClient}
	if mem != nil {
		cw.sink = mem
	}
	var copyErr error
	if sub.Flags&ipc.CleanupFlagFilter != 0 && s.Settings.checksApply() {
		cw.filtering = true
		copyErr = cw.copyChecked(&readTracker{r: content})
	} else {
		copyErr = cw.copy(&readTracker{r: content})
	}
	if copyErr == nil || errors.Is(copyErr, errTooBig) || errors.Is(copyErr, errTooMany) {
		lines := []string{fmt.Sprintf("%s: message-id=%s", w.ID, orEmpty(cw.facts.messageID))}
		if cw.facts.resentID != "" {
			lines = append(lines, fmt.Sprintf("%s: resent-message-id=%s", w.ID, cw.facts.resentID))
		}
		if copyErr == nil && mem == nil {
			log.sendAhead(lines)
		} else {
			for _, line := range lines {
				log.Info("%s", line)
			}
		}
	}
	if copyErr == nil {
		return 0, "", cw, nil
	}
	var tracked *readError
	if errors.As(copyErr, &tracked) {
		return 0, "", cw, tracked.err
	}
	if _, err := io.Copy(io.Discard, content); err != nil {
		return 0, "", cw, err
	}
	switch {
	case errors.Is(copyErr, errTooBig):
		log.Warning("%s: queue file size limit exceeded", w.ID)
		return ipc.CleanupStatSize, replyTooBig, cw, nil
	case errors.Is(copyErr, errTooMany):
		log.Info("%s: %v", w.ID, errTooMany)
		return ipc.CleanupStatHops, replyTooMany, cw, nil
	}
	log.Warning("%s: %v", w.ID, copyErr)
	return ipc.CleanupStatWrite, replyWriteError, cw, nil
}

// now is the time of a submission.
func (s *Server) now() time.Time {
	if s.Settings.Now != nil {
		return s.Settings.Now()
	}
	return time.Now()
}

// envelope rewrites the sender and the recipients of sub, and adds the
// sender_bcc_maps and recipient_bcc_maps recipients; its warnings go to
// log.
func (s *Server) envelope(sub *ipc.CleanupSubmission, id string, local, localClient bool, now time.Time, log *messageLog) (*queue.Envelope, ipc.CleanupStatus, string) {
	st := s.Settings
	// Canonical and virtual alias mapping only when the client asks for
	// it, as Postfix's receive_override_options=no_address_mappings
	// turns it off.
	mapping := sub.Flags&ipc.CleanupFlagMapOK != 0
	bccOK := sub.Flags&ipc.CleanupFlagBCCOK != 0
	sender := st.qualify(sub.Sender)
	var err error
	if mapping {
		if sender, err = st.canonical(sender, st.SenderCanonicalMaps); err != nil {
			log.Warning("%s: %v", id, err)
			return nil, ipc.CleanupStatWrite, replyWriteError
		}
		if st.Masquerade != nil && st.Masquerade.EnvelopeSender {
			if sender, err = st.Masquerade.apply(sender); err != nil {
				log.Warning("%s: %v", id, err)
				return nil, ipc.CleanupStatWrite, replyWriteError
			}
		}
	}
	arrival := sub.ArrivalTime
	if arrival.IsZero() {
		arrival = now
	}
	env := &queue.Envelope{ArrivalTime: arrival, CreateTime: now, Sender: sender, SMTPUTF8: sub.SMTPUTF8}
	env.Attrs = s.attributes(sub, local, localClient)
	seen := map[string]bool{}
	add := func(r queue.Recipient) {
		key := r.Address + "\x00" + r.Original
		if !seen[key] {
			seen[key] = true
			env.Recipients = append(env.Recipients, r)
		}
	}
	// addBCC adds the recipients of the BCC address found for address
	// in tables.
	addBCC := func(tables []maps.Table, address string) (ipc.CleanupStatus, string) {
		if !bccOK {
			return 0, ""
		}
		bcc, err := st.bccLookup(tables, address)
		if err == nil && bcc != "" {
			var rcpts []queue.Recipient
			if rcpts, err = st.bccRecipients(bcc, mapping); err == nil {
				for _, r := range rcpts {
					add(r)
				}
			}
		}
		return recipientError(log, id, err)
	}
	if status, reply := addBCC(st.SenderBCCMaps, sender); status != 0 {
		return nil, status, reply
	}
	for _, rc := range sub.Recipients {
		original := rc.OriginalRecipient
		if original == "" {
			original = rc.Address
		}
		rewritten := st.qualify(rc.Address)
		expanded := []string{rewritten}
		if mapping {
			rewritten, err = st.canonical(rewritten, st.RecipientCanonicalMaps)
			if err == nil && st.Masquerade != nil && st.Masquerade.EnvelopeRecipient {
				rewritten, err = st.Masquerade.apply(rewritten)
			}
			if err == nil {
				expanded, err = st.expandVirtual(rewritten)
			}
		}
		if status, reply := recipientError(log, id, err); status != 0 {
			return nil, status, reply
		}
		for _, a := range expanded {
			add(queue.Recipient{Address: a, Original: original, DSNNotify: int(rc.Notify), DSNOrcpt: rc.ORCPT})
		}
		if status, reply := addBCC(st.RecipientBCCMaps, rewritten); status != 0 {
			return nil, status, reply
		}
	}
	if len(env.Recipients) == 0 {
		return nil, ipc.CleanupStatNoRcpt, replyNoRcpt
	}
	return env, 0, ""
}

// recipientError logs a failure to rewrite or expand a recipient to log
// and returns the status and reply for it: a virtual alias expansion
// beyond its limits is deferred, a table problem is a write error.
func recipientError(log *messageLog, id string, err error) (ipc.CleanupStatus, string) {
	if err == nil {
		return 0, ""
	}
	log.Warning("%s: %v", id, err)
	var aerr *aliasError
	if errors.As(err, &aerr) {
		return ipc.CleanupStatDefer, replyAliasError
	}
	return ipc.CleanupStatWrite, replyWriteError
}

// extracted writes what the checks decided after the content: the
// FILTER and REDIRECT destinations, the always_bcc recipient and the
// BCC recipients of the checks, rewritten as envelope recipients are.
func (s *Server) extracted(cw *contentWriter) error {
	v, w := &cw.verdict, cw.w
	if v.filter != "" {
		if err := w.AddExtractedAttr(queue.Attr{Name: queue.AttrContentFilter, Value: v.filter}); err != nil {
			return err
		}
	}
	if v.redirect != "" {
		if err := w.AddExtractedAttr(queue.Attr{Name: queue.AttrRedirect, Value: v.redirect}); err != nil {
			return err
		}
	}
	if len(w.Recipients()) == 0 {
		return nil
	}
	seen := map[string]bool{}
	for _, r := range w.Recipients() {
		seen[r.Address+"\x00"+r.Original] = true
	}
	st := s.Settings
	if st.AlwaysBCC != "" && cw.sub.Flags&ipc.CleanupFlagBCCOK != 0 {
		rcpts, err := st.bccRecipients(st.AlwaysBCC, cw.mapping)
		if err != nil {
			return err
		}
		for _, r := range rcpts {
			if seen[r.Address+"\x00"+r.Original] {
				continue
			}
			seen[r.Address+"\x00"+r.Original] = true
			if err := w.AddRecipient(r); err != nil {
				return err
			}
		}
	}
	for _, bcc := range v.bcc {
		original := st.qualify(bcc)
		expanded := []string{original}
		if cw.mapping {
			rewritten, err := st.canonical(original, st.RecipientCanonicalMaps)
			if err != nil {
				return err
			}
			if expanded, err = st.expandVirtual(rewritten); err != nil {
				return err
			}
		}
		for _, a := range expanded {
			if seen[a+"\x00"+original] {
				continue
			}
			seen[a+"\x00"+original] = true
			if err := w.AddRecipient(queue.Recipient{Address: a, Original: original}); err != nil {
				return err
			}
		}
	}
	return nil
}

// attributes are the named attributes stored with the message; the
// rewrite context of an SMTP client in local_header_rewrite_clients is
// "local".
func (s *Server) attributes(sub *ipc.CleanupSubmission, local, localClient bool) []queue.Attr {
	var attrs []queue.Attr
	add := func(name, value string) {
		if value != "" {
			attrs = append(attrs, queue.Attr{Name: name, Value: value})
		}
	}
	add(queue.AttrContentFilter, sub.ContentFilter)
	switch {
	case sub.TraceFlags&ipc.DeliveryFlagVerify != 0:
		add(queue.AttrTraceFlags, strconv.Itoa(queue.TraceFlagVerify))
	case sub.TraceFlags&ipc.DeliveryFlagUserVerify != 0:
		add(queue.AttrTraceFlags, strconv.Itoa(queue.TraceFlagUserVerify))
	case sub.TraceFlags&ipc.DeliveryFlagRecord != 0:
		add(queue.AttrTraceFlags, strconv.Itoa(queue.TraceFlagRecord))
	}
	if local {
		add("rewrite_context", "local")
		return attrs
	}
	switch strings.ToUpper(sub.BodyType) {
	case "8BITMIME":
		add(queue.AttrEncoding, queue.EncodingEightBit)
	case "7BIT":
		add(queue.AttrEncoding, queue.EncodingSevenBit)
	}
	add(queue.AttrClientName, sub.ClientName)
	add(queue.AttrClientAddr, sub.ClientAddress)
	add("client_port", sub.ClientPort)
	add(queue.AttrHelo, sub.HeloName)
	add(queue.AttrProtocol, sub.Protocol)
	add("sasl_method", sub.SASLMethod)
	add("sasl_username", sub.SASLUsername)
	add("sasl_sender", sub.SASLSender)
	add(queue.AttrDSNEnvID, sub.DSNEnvID)
	if sub.DSNRet != 0 {
		add(queue.AttrDSNRet, strconv.Itoa(int(sub.DSNRet)))
	}
	if localClient {
		add("rewrite_context", "local")
	} else {
		add("rewrite_context", "remote")
	}
	return attrs
}

// admit applies the input flow control to a new message before its queue
// file is made, as Postfix's cleanup does for each connection: a token
// from the queue manager, or a pause of in_flow_delay when mail arrives
// faster than it leaves the incoming queue. With -v it logs which.
func (s *Server) admit(ctx context.Context) {
	switch s.Flow.Enter(ctx) {
	case mailflow.Token:
		if s.Verbose {
			s.Log.Info("mail_flow_get: 1 1")
		}
	case mailflow.Paused:
		if s.Verbose {
			s.Log.Info("mail_flow_get: no token, paused %s (in_flow_delay)", s.Flow.Delay)
		}
	}
}

// wakeQueueManager tells qmgr that incoming/ has a new message. A missing
// or unresponsive qmgr is not an error: it scans incoming/ when it starts.
// Wake-ups from concurrent commits are coalesced: one goroutine sends
// them, and every commit that came after the start of its last send gets
// one more, so qmgr always scans after the newest file was committed,
// without one trigger connection per message. After each send the
// goroutine waits wakeupSpacing, so that under load the commits of that
// time share one trigger; a commit after a quiet spell is announced at
// once.
func (s *Server) wakeQueueManager() {
	if s.Settings.QmgrTrigger == "" {
		return
	}
	s.wakeMu.Lock()
	defer s.wakeMu.Unlock()
	if s.waking {
		s.wakePending = true
		return
	}
	s.waking = true
	go func() {
		for {
			s.sendWakeup()
			time.Sleep(wakeupSpacing)
			s.wakeMu.Lock()
			if !s.wakePending {
				s.waking = false
				s.wakeMu.Unlock()
				return
			}
			s.wakePending = false
			s.wakeMu.Unlock()
		}
	}()
}

// wakeupSpacing is the least time between two wake-ups of qmgr: at most
// a hundred trigger connections a second however many messages arrive,
// for at most that much delay before qmgr sees a file.
const wakeupSpacing = 10 * time.Millisecond

func (s *Server) sendWakeup() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := ipc.SendRawTrigger(ctx, "unix", s.Settings.QmgrTrigger, ipc.TriggerScanIncoming); err != nil && s.Verbose {
		s.Log.Info("%v", err)
	}
}

func orEmpty(messageID string) string {
	if messageID == "" {
		return "<>"
	}
	return messageID
}

// readTracker marks errors that come from reading the client's content,
// so that they are told apart from cleanup's own rejections.
type readTracker struct{ r io.Reader }

type readError struct{ err error }

func (e *readError) Error() string { return e.err.Error() }
func (e *readError) Unwrap() error { return e.err }

func (t *readTracker) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		return n, &readError{err: err}
	}
	return n, err
}
