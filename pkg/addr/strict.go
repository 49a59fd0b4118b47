// strict_rfc821_envelopes: the stricter reading of MAIL FROM and RCPT TO
// paths that Postfix's smtpd applies when it is on.

package addr

import (
	"strings"

	"github.com/postern/postern/pkg/rfc822"
)

// strictPathSyntax is Path with comments kept, so that they can be found.
var strictPathSyntax = rfc822.Syntax{Specials: rfc822.Path.Specials, Strict: true, KeepComments: true}

// StrictPath checks the argument of MAIL FROM or RCPT TO (the text after
// the colon, parameters included) as strict_rfc821_envelopes demands: the
// path is in angle brackets, holds nothing but the address (no comments,
// no phrase, no second pair of brackets inside), and is not a bare
// "@domain". It returns the path as given, for the log, and whether it
// passes.
func StrictPath(arg string) (path string, ok bool) {
	path, _, err := splitArgument(arg)
	if err != nil || !strings.HasPrefix(path, "<") {
		return path, false
	}
	inner := path
	for len(inner) >= 2 && inner[0] == '<' && inner[len(inner)-1] == '>' {
		inner = inner[1 : len(inner)-1]
	}
	toks, err := rfc822.Tokenize(inner, strictPathSyntax)
	if err != nil {
		return path, false
	}
	for _, t := range toks {
		if t.Kind == rfc822.Comment || t.Is('<') || t.Is('>') {
			return path, false
		}
	}
	if strings.HasPrefix(inner, "@") {
		if colon := strings.IndexByte(inner, ':'); colon >= 0 {
			inner = inner[colon+1:]
		}
	}
	return path, !strings.HasPrefix(strings.TrimLeft(inner, " \t"), "@")
}
