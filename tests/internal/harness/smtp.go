// SMTP clients with deadlines for tests: net/smtp's SendMail and Dial
// wait for ever on a daemon that accepts and never answers, which holds
// the test until go test's timeout kills the whole package.

package harness

import (
	"crypto/tls"
	"errors"
	"net"
	"net/smtp"
	"strings"
	"time"
)

// SMTPDeadline bounds a whole SMTP session opened by DialSMTP or
// SendMail: past it, the pending read or write fails with an i/o timeout
// the test reports.
const SMTPDeadline = 2 * time.Minute

// smtpConnectLimit bounds the TCP connect of DialSMTP.
const smtpConnectLimit = 30 * time.Second

// DialSMTP is smtp.Dial whose connection ends SMTPDeadline after it is
// made.
func DialSMTP(addr string) (*smtp.Client, error) {
	return dialSMTP(addr, time.Now().Add(SMTPDeadline))
}

// dialSMTP is DialSMTP with the session's deadline.
func dialSMTP(addr string, deadline time.Time) (*smtp.Client, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	conn, err := net.DialTimeout("tcp", addr, smtpConnectLimit)
	if err != nil {
		return nil, err
	}
	if err := conn.SetDeadline(deadline); err != nil {
		conn.Close()
		return nil, err
	}
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return nil, err
	}
	return c, nil
}

// SendMail is smtp.SendMail without authentication on a DialSMTP
// client: EHLO localhost, STARTTLS when offered (verifying the
// certificate for addr's host), MAIL, RCPT for each of to, DATA with
// msg, QUIT.
func SendMail(addr, from string, to []string, msg []byte) error {
	return sendMail(addr, from, to, msg, time.Now().Add(SMTPDeadline))
}

// sendMail is SendMail with the session's deadline.
func sendMail(addr, from string, to []string, msg []byte, deadline time.Time) error {
	for _, line := range append([]string{from}, to...) {
		if strings.ContainsAny(line, "\r\n") {
			return errors.New("smtp: A line must not contain CR or LF")
		}
	}
	c, err := dialSMTP(addr, deadline)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Hello("localhost"); err != nil {
		return err
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		host, _, _ := net.SplitHostPort(addr)
		if err := c.StartTLS(&tls.Config{ServerName: host}); err != nil {
			return err
		}
	}
	if err := c.Mail(from); err != nil {
		return err
	}
	for _, rcpt := range to {
		if err := c.Rcpt(rcpt); err != nil {
			return err
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}
