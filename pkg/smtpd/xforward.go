// XFORWARD (smtpd_authorized_xforward_hosts): a content filter that
// re-injects mail names the original client, which then appears in the
// Received: header and the logs instead of the filter.

package smtpd

import (
	"strconv"
	"strings"
)

// xforward holds the attributes an authorized client forwarded for the
// next transaction.
type xforward struct {
	name, addr, port, proto, helo, ident string
	set                                  bool
}

// xforwardAllowed reports whether the client may send XFORWARD.
func (s *session) xforwardAllowed() bool {
	if s.set.XForwardHosts == nil {
		return false
	}
	ok, err := s.set.XForwardHosts.Match(s.clientName, s.clientAddr)
	return err == nil && ok
}

// xforwardKeyword is the EHLO keyword for an authorized client.
func (s *session) xforwardKeyword() []string {
	if !s.xforwardAllowed() {
		return nil
	}
	return []string{"XFORWARD NAME ADDR PROTO HELO SOURCE PORT IDENT"}
}

func (s *session) xforwardCmd(arg string) (bool, error) {
	fields := strings.Fields(arg)
	switch {
	case len(fields) == 0:
		s.reply("501 5.5.4 Syntax: XFORWARD attribute=value...")
		return false, nil
	case !s.xforwardAllowed():
		s.reply("550 5.7.0 Error: insufficient authorization")
		return false, nil
	case s.tx.active:
		s.reply("503 5.5.1 Error: MAIL transaction in progress")
		return false, nil
	}
	x := s.xfwd
	for _, f := range fields {
		name, raw, ok := strings.Cut(f, "=")
		if !ok || raw == "" {
			s.reply("501 5.5.4 Error: attribute=value expected")
			return false, nil
		}
		if len(raw) > 255 {
			s.reply("501 5.5.4 Error: attribute value too long")
			return false, nil
		}
		value := unxtext(raw)
		if value == "[UNAVAILABLE]" || value == "[TEMPUNAVAIL]" {
			value = ""
		}
		switch strings.ToUpper(name) {
		case "NAME":
			x.name = value
		case "ADDR":
			x.addr = strings.TrimPrefix(value, "IPV6:")
		case "PORT":
			if _, err := strconv.Atoi(value); err == nil || value == "" {
				x.port = value
			}
		case "PROTO":
			x.proto = value
		case "HELO":
			x.helo = value
		case "IDENT":
			x.ident = value
		case "SOURCE":
		default:
			s.reply("501 5.5.4 Bad XFORWARD attribute name: " + name)
			return false, nil
		}
	}
	x.set = true
	s.xfwd = x
	s.reply("250 2.0.0 Ok")
	return true, nil
}

// unxtext decodes xtext ("+2B" is "+"); a bad escape is kept as is.
func unxtext(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '+' && i+2 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
				b.WriteByte(byte(n))
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// xforwardLog is the ", orig_queue_id=…, orig_client=…" part of the
// queue ID line.
func (s *session) xforwardLog() string {
	if !s.xfwd.set {
		return ""
	}
	var b strings.Builder
	if s.xfwd.ident != "" {
		b.WriteString(", orig_queue_id=" + s.xfwd.ident)
	}
	if s.xfwd.name != "" || s.xfwd.addr != "" {
		b.WriteString(", orig_client=" + orDefault(s.xfwd.name, "unknown") + "[" + orDefault(s.xfwd.addr, "unknown") + "]")
	}
	return b.String()
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
