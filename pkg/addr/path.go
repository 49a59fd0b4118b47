// SMTP paths: the <address> argument of MAIL FROM and RCPT TO, with the
// leniency of Postfix's smtpd under strict_rfc821_envelopes = no.

package addr

import (
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/postern/postern/pkg/rfc822"
)

// Path is a parsed SMTP path.
type Path struct {
	// Address is the mailbox in internal form. It is the zero Address
	// for the null path "<>".
	Address Address
	// Null is true for "<>".
	Null bool
	// Route holds the source route that was stripped from
	// "<@a,@b:user@c>", without the "@"s ("a", "b"), as Postfix
	// ignores it.
	Route []string
	// TrailingDot is true when the domain ends in one dot
	// ("user@example.com."). The dot is kept in Address (Postfix shows
	// the address as given) and ignored when the address is resolved.
	TrailingDot bool
}

// String returns the path in external form with angle brackets, as it is
// logged and sent: "<>" or "<user@domain>". The source route is not kept.
func (p Path) String() string {
	if p.Null {
		return "<>"
	}
	return "<" + p.Address.String() + ">"
}

// ErrBadPath is returned by ParsePath for every syntax error; ParseMail
// and ParseRcpt turn it into the command's 501 reply.
var ErrBadPath = errors.New("bad address syntax")

// ParsePath parses one path, with or without angle brackets: "<>",
// "<user@domain>", "<@route:user@domain>", "user@domain", "postmaster".
// Like Postfix's smtpd it accepts RFC 822 leniencies: extra brackets
// ("<<a@b>>"), white space between tokens ("<a @b>"), comments.
func ParsePath(text string) (Path, error) {
	bracketed := false
	for len(text) >= 2 && text[0] == '<' && text[len(text)-1] == '>' {
		text, bracketed = text[1:len(text)-1], true
	}
	toks, err := tokenize(text)
	if err != nil {
		return Path{}, err
	}
	return pathFromTokens(toks, bracketed)
}

// pathFromTokens parses the tokens of a path whose outer brackets are gone.
func pathFromTokens(toks []token, bracketed bool) (Path, error) {
	if len(toks) == 0 {
		if !bracketed {
			return Path{}, ErrBadPath
		}
		return Path{Null: true}, nil
	}
	var p Path
	if toks[0].Kind == '@' {
		if colon := indexKind(toks, ':'); colon > 0 {
			route, err := parseRoute(toks[:colon])
			if err != nil {
				return Path{}, err
			}
			p.Route, toks = route, toks[colon+1:]
		}
	}
	at := -1
	for i, t := range toks {
		if t.Kind == '@' {
			at = i
		}
	}
	localToks, domainToks := toks, []token(nil)
	if at >= 0 {
		localToks, domainToks = toks[:at], toks[at+1:]
	}
	local, err := joinLocal(localToks)
	if err != nil {
		return Path{}, err
	}
	if at < 0 {
		if len(localToks) == 0 {
			return Path{}, ErrBadPath
		}
		p.Address = Address{Local: local}
		return p, nil
	}
	domain, err := joinDomain(domainToks)
	if err != nil {
		return Path{}, err
	}
	bare := domain
	if strings.HasSuffix(domain, ".") && !strings.HasSuffix(domain, "..") {
		bare = domain[:len(domain)-1]
		p.TrailingDot = true
	}
	if !ValidDomain(bare) {
		return Path{}, ErrBadPath
	}
	p.Address = Address{Local: local, Domain: domain}
	return p, nil
}

// parseRoute checks "@a,@b" (the tokens before the route's colon) and
// returns its domains.
func parseRoute(toks []token) ([]string, error) {
	var route []string
	for len(toks) > 0 {
		if toks[0].Kind != '@' {
			return nil, ErrBadPath
		}
		end := indexKind(toks, ',')
		if end < 0 {
			end = len(toks)
		}
		domain, err := joinDomain(toks[1:end])
		if err != nil || !ValidDomain(domain) {
			return nil, ErrBadPath
		}
		route = append(route, domain)
		if end == len(toks) {
			break
		}
		toks = toks[end+1:]
		if len(toks) == 0 {
			return nil, ErrBadPath
		}
	}
	return route, nil
}

// joinLocal builds the internal form of a local part from words (atoms,
// quoted strings), dots and extra "@"s. Two words in a row ("a b",
// a"b") are a syntax error, as is any other special.
func joinLocal(toks []token) (string, error) {
	var b strings.Builder
	prevWord := false
	for _, t := range toks {
		switch t.Kind {
		case rfc822.Atom, rfc822.Quoted:
			if prevWord {
				return "", ErrBadPath
			}
			prevWord = true
		case '.', '@':
			prevWord = false
		default:
			return "", ErrBadPath
		}
		b.WriteString(t.Text)
	}
	return b.String(), nil
}

// joinDomain builds a domain from atoms and dots, or one domain literal.
func joinDomain(toks []token) (string, error) {
	if len(toks) == 1 && toks[0].Kind == rfc822.Literal {
		return toks[0].Text, nil
	}
	var b strings.Builder
	prevAtom := false
	for _, t := range toks {
		switch t.Kind {
		case rfc822.Atom:
			if prevAtom {
				return "", ErrBadPath
			}
			prevAtom = true
		case '.':
			prevAtom = false
		default:
			return "", ErrBadPath
		}
		b.WriteString(t.Text)
	}
	return b.String(), nil
}

// checkEncoding applies the SMTPUTF8 rules to an address: invalid UTF-8
// is a syntax error when SMTPUTF8 is enabled, and with strict_smtputf8 a
// non-ASCII address needs SMTPUTF8 to have been declared.
func checkEncoding(p Path, opts Options) error {
	if p.Address.IsASCII() {
		return nil
	}
	if !opts.SMTPUTF8Enable {
		return nil
	}
	if !utf8.ValidString(p.Address.Local) || !utf8.ValidString(p.Address.Domain) {
		return ErrBadUTF8
	}
	if opts.StrictSMTPUTF8 && !opts.SMTPUTF8 {
		return ErrNeedSMTPUTF8
	}
	return nil
}
