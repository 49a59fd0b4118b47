// DATA and BDAT: streaming the message to cleanup and answering with the queue ID.

package smtpd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/postern/postern/pkg/addr"
	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/policy"
)

// replyWriteError is Postfix's answer when the queue file cannot be made.
const replyWriteError = "451 4.3.0 Error: queue file write error"

// replyTooBig is Postfix's answer to content over message_size_limit.
const replyTooBig = "552 5.3.4 Error: message file too big"

// submission is the envelope of the current transaction for cleanup.
func (s *session) submission() *ipc.CleanupSubmission {
	flags := s.set.CleanupFlags
	if s.tx.hold || s.ps.Hold {
		flags |= ipc.CleanupFlagHold
	}
	if s.tx.discard || s.ps.Discard {
		flags |= ipc.CleanupFlagDiscard
	}
	sub := &ipc.CleanupSubmission{
		Recipients:    s.tx.recipients,
		Flags:         flags,
		ArrivalTime:   time.Now(),
		ClientName:    s.clientName,
		ClientAddress: s.clientAddr,
		ClientPort:    s.clientPort,
		HeloName:      s.helo,
		Protocol:      s.protocol(),
		TLSInfo:       s.tlsReceived,
		DSNEnvID:      s.tx.params.EnvID,
		BodyType:      s.tx.params.Body,
		SMTPUTF8:      s.tx.params.SMTPUTF8,
		SASLMethod:    s.sasl.method,
		SASLUsername:  s.sasl.username,
		SASLSender:    s.tx.saslSender,
		ContentFilter: s.set.ContentFilter,
	}
	for _, line := range s.ps.Prepend {
		sub.Prepend += line + "\n"
	}
	s.milterSubmission(sub)
	s.applyAccessActions(sub)
	if s.set.SASL != nil && s.set.SASL.AuthenticatedHeader {
		sub.SASLHeader = s.sasl.username != ""
	}
	if !s.tx.sender.Null {
		sub.Sender = s.tx.sender.Address.Internal()
	}
	if x := s.xfwd; x.set {
		// The filter's re-injection keeps the original client.
		sub.ClientName, sub.ClientAddress, sub.ClientPort = orDefault(x.name, "unknown"), x.addr, x.port
		sub.HeloName, sub.Protocol = x.helo, orDefault(x.proto, sub.Protocol)
	}
	switch s.tx.params.Ret {
	case "FULL":
		sub.DSNRet = ipc.DSNRetFull
	case "HDRS":
		sub.DSNRet = ipc.DSNRetHeaders
	}
	return sub
}

// applyAccessActions applies the FILTER, REDIRECT and BCC actions of
// the restrictions: FILTER replaces content_filter, REDIRECT replaces
// every recipient, BCC adds recipients that get no notifications.
func (s *session) applyAccessActions(sub *ipc.CleanupSubmission) {
	if s.ps.Filter != "" {
		sub.ContentFilter = s.ps.Filter
	}
	if s.ps.Redirect != "" {
		sub.Recipients = []ipc.Recipient{{Address: s.ps.Redirect}}
	}
	for _, bcc := range s.ps.BCC {
		sub.Recipients = append(sub.Recipients, ipc.Recipient{Address: bcc, Notify: ipc.DSNNotifyNever})
	}
}

// openStream connects to cleanup at the first accepted recipient of a
// transaction, as Postfix's smtpd does: cleanup creates the queue file at
// once, so the queue ID is known from here on (the "ID: client=" line is
// logged, and rejects later in the transaction name the ID instead of
// NOQUEUE), and the file's directory is made durable while the client
// sends the rest. Over a kept connection the request is sent without
// waiting: cleanup creates the file while the client reads the RCPT reply
// and sends its next command, and awaitStream reads the answer before
// anything needs the ID. A failure is logged once; DATA or BDAT then
// answers replyWriteError, as when cleanup is unreachable at DATA.
func (s *session) openStream() {
	if s.tx.stream != nil || s.tx.opening != nil || s.tx.streamFailed {
		return
	}
	if cc := s.srv.cleanupIdle.get(); cc != nil {
		if err := cc.Send(s.ctx, &ipc.CleanupOpen{}); err == nil {
			s.tx.opening = cc
			return
		}
		cc.Close()
	}
	s.streamOpened(s.srv.openQueueFile(s.ctx))
}

// awaitStream reads cleanup's answer to the request openStream sent
// without waiting; when that connection failed (its cleanup process
// exited) a queue file is asked for again, as openQueueFile does.
func (s *session) awaitStream() {
	cc := s.tx.opening
	if cc == nil {
		return
	}
	s.tx.opening = nil
	var rep ipc.CleanupReply
	if err := cc.Expect(s.ctx, &rep); err != nil {
		cc.Close()
		if s.ctx.Err() != nil {
			s.tx.streamFailed = true // the session is over
			return
		}
		s.streamOpened(s.srv.openQueueFile(s.ctx))
		return
	}
	s.streamOpened(cc, rep, nil)
}

// streamOpened takes cleanup's answer to a CleanupOpen.
func (s *session) streamOpened(cc *ipc.Conn, rep ipc.CleanupReply, err error) {
	s.tx.streamFailed = true
	var dialErr errDialCleanup
	switch {
	case errors.As(err, &dialErr):
		s.srv.Log.Warning("%s: connect to cleanup service: %v", s.namaddr(), dialErr.err)
		return
	case err != nil:
		s.srv.Log.Warning("%s: open queue file with cleanup service: %v", s.namaddr(), err)
		return
	}
	if rep.Status != 0 {
		cc.Close() // cleanup logged why
		return
	}
	s.tx.stream, s.tx.queueID, s.tx.streamFailed = cc, rep.QueueID, false
	s.ps.QueueID = rep.QueueID
	s.srv.Log.Info("%s: %s", rep.QueueID, s.clientLog())
}

// openCleanup queues the envelope on the transaction's cleanup stream; it
// leaves with the first piece of content (ipc.Conn.Queue). Failures are
// logged; the caller answers replyWriteError.
func (s *session) openCleanup() (*ipc.Conn, error) {
	s.openStream()
	s.awaitStream()
	cc := s.tx.stream
	if cc == nil {
		return nil, errors.New("no cleanup stream")
	}
	if err := cc.Queue(s.submission()); err != nil {
		s.closeStream()
		s.srv.Log.Warning("%s: send envelope to cleanup service: %v", s.namaddr(), err)
		return nil, err
	}
	return cc, nil
}

// keepStream gives the cleanup stream back for later messages, once
// cleanup has answered the submission sent over it.
func (s *session) keepStream() {
	if s.tx.stream != nil {
		s.srv.cleanupIdle.put(s.tx.stream)
		s.tx.stream = nil
	}
}

// closeStream closes the cleanup stream; cleanup removes a queue file
// whose message did not arrive complete.
func (s *session) closeStream() {
	if s.tx.stream != nil {
		s.tx.stream.Close()
		s.tx.stream = nil
	}
}

// noRecipientsReply is the answer to DATA or BDAT without an accepted
// recipient: inside a MAIL transaction there are no valid recipients,
// outside one the client skipped RCPT.
func (s *session) noRecipientsReply() string {
	if s.tx.active {
		return "554 5.5.1 Error: no valid recipients"
	}
	return "503 5.5.1 Error: need RCPT command"
}

func (s *session) data(arg string) (bool, error) {
	if s.needTLS() {
		return false, nil
	}
	switch {
	case arg != "":
		s.reply("501 5.5.4 Syntax: DATA")
		return false, nil
	case s.tx.bdat != nil:
		s.reply("503 5.5.1 Error: DATA after BDAT")
		return false, nil
	case len(s.tx.recipients) == 0:
		s.reply(s.noRecipientsReply())
		return false, nil
	}
	if reply := s.srv.Policy.CheckData(s.syncPolicy()).Reply(); reply != "" {
		s.reply(reply)
		return false, nil
	}
	if reply, disconnect := s.milterData(); disconnect {
		return false, errCloseSession
	} else if reply != "" {
		s.reply(reply)
		return false, nil
	}
	cc, err := s.openCleanup()
	if err != nil {
		s.resetTransaction()
		s.reply(replyWriteError)
		return false, nil
	}
	s.reply("354 End data with <CR><LF>.<CR><LF>")
	if err := s.flush(); err != nil {
		return false, err
	}
	s.budget.recharge(s.set.Deadlines.MinDataRate)
	dr := newDataReader(s.br, s.bareNewline, s.set.MessageSizeLimit)
	eod := &eodReader{s: s, dr: dr}
	_, sendErr := cc.SendContent(s.ctx, eod)
	if !dr.complete() && dr.err == nil {
		dr.drain() // cleanup failed first: read the rest of the message
	}
	if !dr.complete() {
		s.lastCmd = fmt.Sprintf("DATA (%d bytes)", dr.received)
		return false, dr.err
	}
	s.lastCmd = "END-OF-MESSAGE"
	defer s.resetTransaction()
	switch {
	case dr.err == errMessageTooBig:
		s.srv.Log.Warning("%s: queue file size limit exceeded", orDefault(s.tx.queueID, "NOQUEUE"))
		s.reply(replyTooBig)
		return false, nil
	case eod.reply != "":
		s.reply(eod.reply)
		return false, nil
	case dr.err == errBareLF:
		s.srv.Log.Info("%s", policy.RejectLog("END-OF-MESSAGE", s.transactionLogSession(), "bare <LF> received"))
		s.reply(s.bareLFReply())
		return false, nil
	case sendErr != nil:
		s.srv.Log.Warning("%s: send message to cleanup service: %v", s.namaddr(), sendErr)
		s.reply(replyWriteError)
		return false, nil
	}
	rep, err := s.cleanupReply(s.ctx, cc)
	if err != nil {
		s.srv.Log.Warning("%s: read reply from cleanup service: %v", s.namaddr(), err)
		s.reply(replyWriteError)
		return false, nil
	}
	s.keepStream()
	return s.finishMessage(rep, "250 2.0.0 Ok: queued as "+rep.QueueID), nil
}

// transactionLogSession describes the transaction for a log line about the
// whole message: to= names the first recipient.
func (s *session) transactionLogSession() *policy.Session {
	ps := *s.syncPolicy()
	if len(s.tx.recipients) > 0 {
		ps.Recipient = addr.Split(s.tx.recipients[0].Address)
	}
	return &ps
}

// errEndOfDataReject stops a message that smtpd_end_of_data_restrictions
// rejected, so that cleanup drops it.
var errEndOfDataReject = errors.New("rejected by smtpd_end_of_data_restrictions")

// endOfData applies smtpd_end_of_data_restrictions to a message of size
// bytes; it returns the rejection reply, or "".
func (s *session) endOfData(size int64) string {
	ps := s.syncPolicy()
	ps.Size = size
	return s.srv.Policy.CheckEndOfData(ps).Reply()
}

// eodReader ends the content with errEndOfDataReject instead of EOF when
// the end-of-data restrictions reject the message.
type eodReader struct {
	s     *session
	dr    *dataReader
	reply string
}

func (r *eodReader) Read(p []byte) (int, error) {
	n, err := r.dr.Read(p)
	if err == io.EOF && r.dr.err == io.EOF {
		if r.reply = r.s.endOfData(r.dr.received); r.reply != "" {
			return n, errEndOfDataReject
		}
	}
	return n, err
}

// finishMessage answers cleanup's verdict on a message.
func (s *session) finishMessage(rep ipc.CleanupReply, okReply string) bool {
	if rep.Status != 0 {
		s.reply(cleanupFailureReply(rep))
		return false
	}
	s.junk = 0
	s.reply(okReply)
	return true
}

// cleanupFailureReply is the reply for a message cleanup did not queue.
func cleanupFailureReply(rep ipc.CleanupReply) string {
	switch {
	case rep.Reason != "":
		return rep.Reason
	case rep.Status&ipc.CleanupStatSize != 0:
		return replyTooBig
	case rep.Status&ipc.CleanupStatNoRcpt != 0:
		return "554 5.5.1 Error: no valid recipients"
	}
	return replyWriteError
}

// bdatTransfer is a BDAT message on its way to cleanup: chunks are written
// to pipe, which a goroutine streams to cleanup.
type bdatTransfer struct {
	pipe   *io.PipeWriter
	result chan cleanupResult
	size   int64
	failed bool // an earlier chunk failed: discard the rest up to LAST
}

// cleanupResult is cleanup's reply to a streamed message, or the error.
type cleanupResult struct {
	reply ipc.CleanupReply
	err   error
}

// startBDAT opens cleanup and starts streaming to it.
func (s *session) startBDAT() *bdatTransfer {
	cc, err := s.openCleanup()
	if err != nil {
		return &bdatTransfer{failed: true}
	}
	pr, pw := io.Pipe()
	t := &bdatTransfer{pipe: pw, result: make(chan cleanupResult, 1)}
	ctx := s.ctx
	// The session closes cc, or keeps it after a complete message, once
	// the result is in.
	go func() {
		if _, err := cc.SendContent(ctx, pr); err != nil {
			pr.CloseWithError(err)
			t.result <- cleanupResult{err: err}
			return
		}
		rep, err := s.cleanupReply(ctx, cc)
		t.result <- cleanupResult{reply: rep, err: err}
	}()
	return t
}

// abort stops the transfer; cleanup sees the content end early and drops
// the message.
func (t *bdatTransfer) abort(err error) cleanupResult {
	if t.pipe == nil {
		return cleanupResult{err: err}
	}
	t.pipe.CloseWithError(err)
	t.pipe = nil
	return <-t.result
}

// chunkSink takes the bytes of one chunk: it counts them against the size
// limit and passes them on until something fails, then discards.
type chunkSink struct {
	t      *bdatTransfer
	limit  int64
	tooBig bool
	err    error
}

func (c *chunkSink) Write(p []byte) (int, error) {
	c.t.size += int64(len(p))
	if c.limit > 0 && c.t.size > c.limit {
		c.tooBig = true
	}
	if c.tooBig || c.err != nil || c.t.failed || c.t.pipe == nil {
		return len(p), nil
	}
	if _, err := c.t.pipe.Write(p); err != nil {
		c.err = err
	}
	return len(p), nil
}

func (s *session) bdat(arg string) (bool, error) {
	size, last, ok := parseBDAT(arg)
	if !ok {
		s.reply("521 5.5.4 Syntax: BDAT count [LAST]")
		return false, errCloseSession
	}
	var refusal string
	switch {
	case s.set.TLSRequired && s.tlsInfo == "":
		refusal = "530 5.7.0 Must issue a STARTTLS command first"
	case s.tx.bdat == nil && len(s.tx.recipients) == 0:
		refusal = s.noRecipientsReply()
	case size == 0 && !last:
		refusal = "551 5.7.1 Null BDAT request"
	}
	if refusal != "" {
		if _, err := io.CopyN(io.Discard, s.br, size); err != nil {
			return false, err
		}
		s.reply(refusal)
		return false, nil
	}
	first := s.tx.bdat == nil
	if first {
		s.awaitStream() // the milters get the queue ID
		if reply, disconnect := s.milterData(); disconnect || reply != "" {
			if _, err := io.CopyN(io.Discard, s.br, size); err != nil {
				return false, err
			}
			if disconnect {
				return false, errCloseSession
			}
			s.reply(reply)
			return false, nil
		}
		s.tx.bdat = s.startBDAT()
	}
	t := s.tx.bdat
	s.budget.recharge(s.set.Deadlines.MinDataRate)
	sink := &chunkSink{t: t, limit: s.set.MessageSizeLimit}
	if _, err := io.CopyN(sink, s.br, size); err != nil {
		s.lastCmd = fmt.Sprintf("BDAT (%d bytes)", t.size)
		return false, err
	}
	s.lastCmd = "BDAT"
	if last {
		defer s.resetTransaction()
	}
	switch {
	case t.failed && first:
		// The cleanup connection failed at the first chunk.
		s.reply(replyWriteError)
		return false, nil
	case t.failed:
		s.reply("551 5.0.0 Discarded " + strconv.FormatInt(size, 10) + " bytes after earlier error")
		return false, nil
	case sink.tooBig:
		t.abort(errMessageTooBig)
		t.failed = true
		s.reply("552 5.3.4 Chunk exceeds message size limit")
		return false, nil
	case sink.err != nil:
		res := t.abort(sink.err)
		t.failed = true
		s.srv.Log.Warning("%s: send message to cleanup service: %v", s.namaddr(), res.err)
		s.reply(replyWriteError)
		return false, nil
	case !last:
		s.reply("250 2.0.0 Ok: " + strconv.FormatInt(size, 10) + " bytes")
		return true, nil
	}
	if reply := s.endOfData(t.size); reply != "" {
		t.abort(errEndOfDataReject)
		t.failed = true
		s.reply(reply)
		return false, nil
	}
	t.pipe.Close()
	t.pipe = nil
	res := <-t.result
	if res.err != nil {
		s.srv.Log.Warning("%s: send message to cleanup service: %v", s.namaddr(), res.err)
		s.reply(replyWriteError)
		return false, nil
	}
	s.keepStream()
	return s.finishMessage(res.reply, fmt.Sprintf("250 2.0.0 Ok: %d bytes queued as %s", t.size, res.reply.QueueID)), nil
}

// parseBDAT parses "count [LAST]".
func parseBDAT(arg string) (size int64, last bool, ok bool) {
	f := strings.Fields(arg)
	if len(f) == 0 || len(f) > 2 || (len(f) == 2 && !strings.EqualFold(f[1], "LAST")) {
		return 0, false, false
	}
	n, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil || n < 0 {
		return 0, false, false
	}
	return n, len(f) == 2, true
}

// abortTransaction stops a BDAT transfer in progress and closes the
// cleanup stream.
func (s *session) abortTransaction() {
	// The queue file was made: its "client=" line is logged as it
	// would have been at RCPT.
	s.awaitStream()
	if s.tx.bdat != nil {
		s.tx.bdat.abort(context.Canceled)
		s.tx.bdat = nil
	}
	s.closeStream()
}
