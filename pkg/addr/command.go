// MAIL FROM / RCPT TO arguments: the path, its ESMTP parameters, and the
// SMTP replies Postfix's smtpd gives for bad ones.

package addr

import (
	"errors"
	"fmt"
	"math"
	"strings"
)

// ReplyError is a syntax error carrying the SMTP reply smtpd sends for it.
type ReplyError struct {
	Code int    // 501, 553, 555, 500
	DSN  string // enhanced status code, e.g. "5.1.7"
	Text string
}

// Error returns the reply line, e.g. "501 5.1.7 Bad sender address syntax".
func (e *ReplyError) Error() string { return fmt.Sprintf("%d %s %s", e.Code, e.DSN, e.Text) }

// The replies of Postfix's smtpd for bad MAIL and RCPT arguments.
var (
	ErrBadSender     = &ReplyError{501, "5.1.7", "Bad sender address syntax"}
	ErrBadRecipient  = &ReplyError{501, "5.1.3", "Bad recipient address syntax"}
	ErrMailSyntax    = &ReplyError{501, "5.5.4", "Syntax: MAIL FROM:<address>"}
	ErrRcptSyntax    = &ReplyError{501, "5.5.4", "Syntax: RCPT TO:<address>"}
	ErrNeedSMTPUTF8  = &ReplyError{553, "5.6.7", "Must declare SMTPUTF8 to send unicode address"}
	ErrBadUTF8       = &ReplyError{500, "5.5.2", "Error: bad UTF-8 syntax"}
	ErrBadSize       = &ReplyError{501, "5.5.4", "Bad message size syntax"}
	ErrSizeOverflow  = &ReplyError{552, "5.3.4", "Message size exceeds file system imposed limit"}
	ErrBadRet        = &ReplyError{501, "5.5.4", "Bad RET parameter syntax"}
	ErrBadEnvID      = &ReplyError{501, "5.5.4", "Bad ENVID parameter syntax"}
	ErrBadNotify     = &ReplyError{501, "5.5.4", "Error: Bad NOTIFY parameter syntax"}
	ErrBadORCPT      = &ReplyError{501, "5.5.4", "Error: Bad ORCPT parameter syntax"}
	errUnsupportedOp = &ReplyError{555, "5.5.4", "Unsupported option: "}
)

// unsupportedOption returns "555 5.5.4 Unsupported option: PARAM".
func unsupportedOption(param string) *ReplyError {
	e := *errUnsupportedOp
	e.Text += param
	return &e
}

// Options are the settings that change how arguments are checked.
type Options struct {
	// SMTPUTF8Enable is smtputf8_enable: the SMTPUTF8 parameter is
	// accepted, and an address that is not valid UTF-8 is refused.
	SMTPUTF8Enable bool
	// StrictSMTPUTF8 is strict_smtputf8: a non-ASCII address needs
	// SMTPUTF8 on the MAIL command. Postfix's default is no.
	StrictSMTPUTF8 bool
	// SMTPUTF8 is true when the MAIL command of this transaction said
	// SMTPUTF8 (used by ParseRcpt).
	SMTPUTF8 bool
}

// MailParams are the ESMTP parameters of MAIL FROM.
type MailParams struct {
	Size     int64  // SIZE=, 0 when absent
	HasSize  bool   // SIZE= was given
	Body     string // "7BIT", "8BITMIME" or ""
	Ret      string // "FULL", "HDRS" or ""
	EnvID    string // ENVID=, xtext-decoded
	SMTPUTF8 bool   // SMTPUTF8
	Auth     string // AUTH= as given (xtext, "<>" for none); smtpd decides what to trust
}

// RcptParams are the ESMTP parameters of RCPT TO.
type RcptParams struct {
	Notify    []string // NOTIFY= keywords in upper case: NEVER, or SUCCESS/FAILURE/DELAY
	ORCPTType string   // ORCPT= address type as given ("rfc822", "utf-8")
	ORCPT     string   // ORCPT= address, decoded
}

// ParseMail parses the argument of MAIL FROM: (the text after the colon).
func ParseMail(arg string, opts Options) (Path, MailParams, error) {
	var params MailParams
	pathText, rest, err := splitArgument(arg)
	if err != nil {
		return Path{}, params, ErrMailSyntax
	}
	path, err := ParsePath(pathText)
	if err != nil {
		return Path{}, params, ErrBadSender
	}
	for _, p := range strings.Fields(rest) {
		if err := params.set(p, opts); err != nil {
			return Path{}, params, err
		}
	}
	opts.SMTPUTF8 = params.SMTPUTF8
	if err := checkEncoding(path, opts); err != nil {
		return Path{}, params, err
	}
	return path, params, nil
}

// ParseRcpt parses the argument of RCPT TO: (the text after the colon).
// The null path is a syntax error here.
func ParseRcpt(arg string, opts Options) (Path, RcptParams, error) {
	var params RcptParams
	pathText, rest, err := splitArgument(arg)
	if err != nil {
		return Path{}, params, ErrRcptSyntax
	}
	path, err := ParsePath(pathText)
	if err != nil || path.Null {
		return Path{}, params, ErrBadRecipient
	}
	for _, p := range strings.Fields(rest) {
		if err := params.set(p); err != nil {
			return Path{}, params, err
		}
	}
	if err := checkEncoding(path, opts); err != nil {
		return Path{}, params, err
	}
	return path, params, nil
}

// errNoPath reports an argument with no path at all.
var errNoPath = errors.New("missing path")

// splitArgument separates the path from the parameters that follow it.
// A bracketed path ends at its '>' (quotes respected); an unbracketed one
// at the first space outside quotes.
func splitArgument(arg string) (path, rest string, err error) {
	arg = strings.TrimLeft(arg, " \t")
	if arg == "" {
		return "", "", errNoPath
	}
	end, quoted, depth := -1, false, 0
	bracketed := arg[0] == '<'
	for i := 0; i < len(arg) && end < 0; i++ {
		switch c := arg[i]; {
		case c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case quoted:
		case bracketed && c == '<':
			depth++
		case bracketed && c == '>':
			if depth--; depth == 0 {
				end = i + 1
			}
		case !bracketed && (c == ' ' || c == '\t'):
			end = i
		}
	}
	if end < 0 {
		end = len(arg)
	}
	if end < len(arg) && arg[end] != ' ' && arg[end] != '\t' {
		// "<a@b>junk": the parameters must be separated by a space.
		return arg, "", nil
	}
	return arg[:end], arg[end:], nil
}

// PathToken returns the first word of a MAIL FROM or RCPT TO argument as
// Postfix's smtpd command tokenizer cuts it (white space ends it outside
// angle brackets and quotes), and whether each '<' and '"' in it is
// closed. Postfix refuses a path with an unclosed one before it looks at
// the address, without the "Illegal address syntax" warning it logs for
// other bad paths.
func PathToken(arg string) (token string, closed bool) {
	arg = strings.TrimLeft(arg, " \t")
	var open []byte // the closing bytes awaited, innermost last
	i := 0
	for ; i < len(arg); i++ {
		c := arg[i]
		if c == '\\' {
			i++
			continue
		}
		if len(open) == 0 {
			switch c {
			case ' ', '\t':
				return arg[:i], true
			case '<':
				open = append(open, '>')
			case '"':
				open = append(open, '"')
			}
			continue
		}
		switch wanted := open[len(open)-1]; {
		case c == wanted:
			open = open[:len(open)-1]
		case c == '"':
			open = append(open, '"')
		case c == '<' && wanted == '>':
			open = append(open, '>')
		}
	}
	return arg[:min(i, len(arg))], len(open) == 0
}

// set applies one MAIL FROM parameter.
func (m *MailParams) set(param string, opts Options) error {
	key, value, hasValue := strings.Cut(param, "=")
	switch strings.ToUpper(key) {
	case "SIZE":
		n, err := parseSize(value)
		if err != nil {
			return err
		}
		m.Size, m.HasSize = n, true
	case "BODY":
		switch v := strings.ToUpper(value); v {
		case "7BIT", "8BITMIME":
			m.Body = v
		default:
			return unsupportedOption(param)
		}
	case "RET":
		v := strings.ToUpper(value)
		if m.Ret != "" || (v != "FULL" && v != "HDRS") {
			return ErrBadRet
		}
		m.Ret = v
	case "ENVID":
		decoded, ok := DecodeXtext(value)
		if m.EnvID != "" || !hasValue || !ok || decoded == "" {
			return ErrBadEnvID
		}
		m.EnvID = decoded
	case "SMTPUTF8":
		if hasValue || !opts.SMTPUTF8Enable {
			return unsupportedOption(param)
		}
		m.SMTPUTF8 = true
	case "AUTH":
		m.Auth = value
	default:
		return unsupportedOption(param)
	}
	return nil
}

// set applies one RCPT TO parameter.
func (r *RcptParams) set(param string) error {
	key, value, hasValue := strings.Cut(param, "=")
	switch strings.ToUpper(key) {
	case "NOTIFY":
		notify, ok := parseNotify(value)
		if r.Notify != nil || !hasValue || !ok {
			return ErrBadNotify
		}
		r.Notify = notify
	case "ORCPT":
		typ, text, ok := strings.Cut(value, ";")
		if r.ORCPTType != "" || !hasValue || !ok || !validAddrType(typ) {
			return ErrBadORCPT
		}
		decoded, ok := DecodeXtext(text)
		if !ok || decoded == "" {
			return ErrBadORCPT
		}
		r.ORCPTType, r.ORCPT = typ, decoded
	default:
		return unsupportedOption(param)
	}
	return nil
}

// parseSize parses a SIZE= value: decimal digits. A number too large for
// a file size gets Postfix's 552 reply.
func parseSize(v string) (int64, error) {
	if v == "" {
		return 0, ErrBadSize
	}
	var n int64
	overflow := false
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return 0, ErrBadSize
		}
		if n > (math.MaxInt64-9)/10 {
			overflow = true
		}
		n = n*10 + int64(v[i]-'0')
	}
	if overflow {
		return 0, ErrSizeOverflow
	}
	return n, nil
}

// parseNotify parses NOTIFY=NEVER or a comma list of SUCCESS, FAILURE and
// DELAY (RFC 3461); NEVER cannot be combined with the others.
func parseNotify(v string) ([]string, bool) {
	var out []string
	for _, kw := range strings.Split(strings.ToUpper(v), ",") {
		switch kw {
		case "NEVER", "SUCCESS", "FAILURE", "DELAY":
			out = append(out, kw)
		default:
			return nil, false
		}
	}
	if len(out) > 1 {
		for _, kw := range out {
			if kw == "NEVER" {
				return nil, false
			}
		}
	}
	return out, true
}

// validAddrType reports whether an ORCPT address type is an RFC 3461 atom.
func validAddrType(t string) bool {
	if t == "" {
		return false
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}
