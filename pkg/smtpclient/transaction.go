// The mail transaction: MAIL, RCPT and DATA, pipelined (RFC 2920) when
// the server offers PIPELINING, one command at a time otherwise.

package smtpclient

import (
	"fmt"
	"time"

	"github.com/postern/postern/pkg/ipc"
)

// transaction sends the message to every recipient without a verdict and
// settles them. An error is a *sessionError: the connection broke.
func (s *session) transaction() (verdict, error) {
	msg := s.msg
	if ok, err := s.xforward(); !ok || err != nil {
		return verdict{}, err
	}
	_, pipelined := s.ext["PIPELINING"]
	_, dsn := s.ext["DSN"]

	// In pipelined mode every command is written first and the replies
	// are read afterwards, in order.
	var sendErr error
	send := func(stage, line string) Reply {
		if sendErr != nil {
			return Reply{}
		}
		_ = s.nc.SetDeadline(time.Now().Add(s.client.cfg.CommandTimeout))
		s.chatOut(line)
		if _, err := s.w.WriteString(line + "\r\n"); err != nil {
			sendErr = &sessionError{stage, err}
			return Reply{}
		}
		if pipelined {
			return Reply{}
		}
		return s.receive(stage, &sendErr)
	}

	mailReply := send("sending MAIL FROM", fmt.Sprintf("MAIL FROM:<%s>%s", msg.Sender, s.mailParams(dsn)))
	if !pipelined && sendErr == nil && mailReply.Class() != 2 {
		return s.mailRefused(mailReply), nil
	}
	var pending []int
	var rcptReplies []Reply
	for i, rcpt := range msg.Recipients {
		if s.results[i].Status != 0 {
			continue
		}
		params := ""
		if dsn {
			params = rcptDSNParams(rcpt)
		}
		pending = append(pending, i)
		rcptReplies = append(rcptReplies, send("sending RCPT TO", fmt.Sprintf("RCPT TO:<%s>%s", rcpt.Address, params)))
	}
	// Pipelined, DATA follows the RCPTs before their replies are known,
	// as in Postfix (an address probe sends none).
	pipelinedData := pipelined && !msg.VerifyOnly
	if pipelinedData {
		send("sending DATA command", "DATA")
	}
	var dataReply Reply
	if pipelined {
		if sendErr != nil {
			return verdict{}, sendErr
		}
		if err := s.flush("sending MAIL FROM"); err != nil {
			return verdict{}, err
		}
		mailReply = s.receive("sending MAIL FROM", &sendErr)
		for k := range rcptReplies {
			rcptReplies[k] = s.receive("sending RCPT TO", &sendErr)
		}
		if pipelinedData {
			dataReply = s.receive("sending DATA command", &sendErr)
		}
		if mailReply.Code != 0 && mailReply.Class() != 2 {
			// The refusal stands even if the connection broke after it.
			v := s.mailRefused(mailReply)
			if sendErr != nil {
				return v, nil
			}
			return v, s.endEmptyData(dataReply)
		}
	}

	// Replies received before the connection broke settle their
	// recipients; the caller defers the others.
	var accepted []int
	var last verdict
	for k, i := range pending {
		reply := rcptReplies[k]
		switch {
		case reply.Code == 0:
		case reply.Class() == 2 && msg.VerifyOnly:
			last = verdict{ipc.StatusSent, reply.DSN(), reply.Text()}
			s.settleOne(i, last)
		case reply.Class() == 2:
			accepted = append(accepted, i)
		default:
			last = s.rejected(reply, "RCPT TO")
			s.settleOne(i, last)
		}
	}
	if sendErr != nil {
		return last, sendErr
	}
	if msg.VerifyOnly || len(accepted) == 0 {
		s.aborted = true
		return last, s.endEmptyData(dataReply)
	}
	verdicts, err := s.data(len(accepted), pipelinedData, dataReply)
	// With LMTP, recipients answered before the connection broke keep
	// their verdicts; the rest are settled by the caller.
	for k, v := range verdicts {
		s.settleOne(accepted[k], v)
		last = v
	}
	return last, err
}

// mailParams are the ESMTP parameters of MAIL FROM the server supports.
func (s *session) mailParams(dsn bool) string {
	msg := s.msg
	params := ""
	if _, ok := s.ext["SIZE"]; ok && msg.Size > 0 {
		params += fmt.Sprintf(" SIZE=%d", msg.Size)
	}
	if _, ok := s.ext["8BITMIME"]; ok && msg.BodyType != "" {
		params += " BODY=" + msg.BodyType
	}
	if _, ok := s.ext["SMTPUTF8"]; ok && msg.SMTPUTF8 {
		params += " SMTPUTF8"
	}
	if dsn {
		params += mailDSNParams(msg)
	}
	return params
}

// mailRefused settles every pending recipient after MAIL FROM failed.
func (s *session) mailRefused(reply Reply) verdict {
	s.aborted = true
	v := s.rejected(reply, "MAIL FROM")
	s.settlePending(v)
	return v
}

// flush sends what is buffered.
func (s *session) flush(stage string) error {
	if err := s.w.Flush(); err != nil {
		return &sessionError{stage, err}
	}
	return nil
}

// receive flushes and reads one reply; a failure is stored in *errp and
// later calls do nothing.
func (s *session) receive(stage string, errp *error) Reply {
	if *errp != nil {
		return Reply{}
	}
	if err := s.flush(stage); err != nil {
		*errp = err
		return Reply{}
	}
	reply, err := readReply(s.r)
	if err != nil {
		*errp = &sessionError{stage, err}
		return Reply{}
	}
	s.chatIn(reply)
	return reply
}

// endEmptyData ends the DATA a pipelined transaction sent before all its
// recipients were refused: a server that went on with 354 gets the end
// of data at once, an empty message it must not deliver (RFC 2197), and
// its reply is ignored. As after a message, the session then ends
// without RSET.
func (s *session) endEmptyData(dataReply Reply) error {
	if dataReply.Class() != 3 {
		return nil
	}
	s.aborted = false
	_ = s.nc.SetDeadline(time.Now().Add(s.client.cfg.CommandTimeout))
	s.chatOut(".")
	s.w.WriteString(".\r\n")
	s.queueQuit()
	if _, err := s.endOfDataReply(); err != nil {
		return err
	}
	return nil
}

// endOfDataReply flushes the end of data and reads one reply to it.
func (s *session) endOfDataReply() (Reply, error) {
	return s.flushReply("sending end of data -- message may be sent more than once")
}

// data sends DATA (unless pipelined already sent it and dataReply is its
// reply) and the content, and returns the verdicts for the n accepted
// recipients: one for all with SMTP, one each with LMTP, in the order of
// their RCPT TO commands. After an error the verdicts are those
// received.
func (s *session) data(n int, pipelined bool, dataReply Reply) ([]verdict, error) {
	all := func(v verdict) []verdict {
		out := make([]verdict, n)
		for i := range out {
			out[i] = v
		}
		return out
	}
	reply := dataReply
	if !pipelined {
		var err error
		if reply, err = s.command(s.client.cfg.CommandTimeout, "sending DATA command", "DATA"); err != nil {
			return nil, err
		}
	}
	if reply.Class() != 3 {
		s.aborted = true
		return all(s.rejected(reply, "DATA")), nil
	}
	content, err := s.msg.Open()
	if err != nil {
		return all(s.abortData(err)), nil
	}
	defer content.Close()
	_ = s.nc.SetDeadline(time.Now().Add(s.client.cfg.DataTimeout))
	if err := writeDotStuffed(s.w, content); err != nil {
		if _, ok := err.(*readError); ok {
			return all(s.abortData(err)), nil
		}
		return nil, &sessionError{"sending message body", err}
	}
	s.chatOut(".")
	s.queueQuit()
	if err := s.w.Flush(); err != nil {
		return nil, &sessionError{"sending message body", err}
	}
	replies := 1
	if s.client.cfg.LMTP {
		replies = n
	}
	var verdicts []verdict
	for k := 0; k < replies; k++ {
		reply, err = readReply(s.r)
		if err != nil {
			return verdicts, &sessionError{"sending end of data -- message may be sent more than once", err}
		}
		s.chatIn(reply)
		v := verdict{ipc.StatusSent, reply.DSN(), reply.Text()}
		if reply.Class() != 2 {
			v = s.rejected(reply, "end of DATA")
		}
		verdicts = append(verdicts, v)
	}
	if !s.client.cfg.LMTP {
		return all(verdicts[0]), nil
	}
	return verdicts, nil
}
