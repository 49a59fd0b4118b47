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
	if sendErr != nil {
		return verdict{}, sendErr
	}
	if pipelined {
		if err := s.flush("sending MAIL FROM"); err != nil {
			return verdict{}, err
		}
		mailReply = s.receive("sending MAIL FROM", &sendErr)
		for k := range rcptReplies {
			rcptReplies[k] = s.receive("sending RCPT TO", &sendErr)
		}
		if sendErr != nil {
			return verdict{}, sendErr
		}
		if mailReply.Class() != 2 {
			return s.mailRefused(mailReply), nil
		}
	}

	var accepted []int
	var last verdict
	for k, i := range pending {
		reply := rcptReplies[k]
		switch {
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
	if msg.VerifyOnly || len(accepted) == 0 {
		return last, nil
	}
	v, err := s.data()
	if err != nil {
		return verdict{}, err
	}
	for _, i := range accepted {
		s.settleOne(i, v)
	}
	return v, nil
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
	return reply
}

// data sends DATA and the content, and returns the verdict for the
// accepted recipients. DATA is sent only once a recipient was accepted,
// also when pipelining, so that a server never sees an empty message.
func (s *session) data() (verdict, error) {
	reply, err := s.command(s.client.cfg.CommandTimeout, "sending DATA command", "DATA")
	if err != nil {
		return verdict{}, err
	}
	if reply.Class() != 3 {
		return s.rejected(reply, "DATA"), nil
	}
	content, err := s.msg.Open()
	if err != nil {
		return s.abortData(err), nil
	}
	defer content.Close()
	_ = s.nc.SetDeadline(time.Now().Add(s.client.cfg.DataTimeout))
	if err := writeDotStuffed(s.w, content); err != nil {
		if _, ok := err.(*readError); ok {
			return s.abortData(err), nil
		}
		return verdict{}, &sessionError{"sending message body", err}
	}
	if err := s.w.Flush(); err != nil {
		return verdict{}, &sessionError{"sending message body", err}
	}
	reply, err = readReply(s.r)
	if err != nil {
		return verdict{}, &sessionError{"sending end of data -- message may be sent more than once", err}
	}
	if reply.Class() != 2 {
		return s.rejected(reply, "end of DATA"), nil
	}
	return verdict{ipc.StatusSent, reply.DSN(), reply.Text()}, nil
}
