// XFORWARD (smtp_send_xforward_command): telling a content filter's
// re-injection server who the original client was, so that its logs and
// Received: header name that client instead of this host.

package smtpclient

import (
	"fmt"
	"strings"
)

// XForward is the original client of a message, from its queue file.
type XForward struct {
	Name, Addr, Port, Proto, Helo string
	Ident                         string // the queue ID
	Local                         bool   // rewrite context "local"
}

// unavailable is what XFORWARD sends for a value that is not known.
const unavailable = "[UNAVAILABLE]"

// xtext encodes an XFORWARD value (RFC 3461 xtext).
func xtext(s string) string {
	if s == "" {
		return unavailable
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '!' || c > '~' || c == '+' || c == '=' {
			fmt.Fprintf(&b, "+%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// xforward sends the XFORWARD commands before MAIL FROM when the server
// offers XFORWARD, with the attributes it announced, in the two commands
// Postfix uses. ok is false when the server refused one (the verdict is
// then set for every recipient) or err when the connection broke.
func (s *session) xforward() (ok bool, err error) {
	x := s.msg.XForward
	announced, offered := s.ext["XFORWARD"]
	if !s.client.cfg.SendXForward || x == nil || !offered {
		return true, nil
	}
	wanted := map[string]bool{}
	for _, a := range strings.Fields(strings.ToUpper(announced)) {
		wanted[a] = true
	}
	domain := "REMOTE"
	if x.Local {
		domain = "LOCAL"
	}
	for _, group := range [][][2]string{
		{{"NAME", x.Name}, {"ADDR", x.Addr}, {"PORT", x.Port}},
		{{"PROTO", x.Proto}, {"HELO", x.Helo}, {"IDENT", x.Ident}, {"SOURCE", domain}},
	} {
		cmd := "XFORWARD"
		for _, kv := range group {
			if wanted[kv[0]] {
				cmd += " " + kv[0] + "=" + xtext(kv[1])
			}
		}
		if cmd == "XFORWARD" {
			continue
		}
		reply, err := s.command(s.client.cfg.CommandTimeout, "sending XFORWARD", "%s", cmd)
		if err != nil {
			return false, err
		}
		if reply.Class() != 2 {
			s.settlePending(s.rejected(reply, "XFORWARD"))
			return false, nil
		}
	}
	return true, nil
}
