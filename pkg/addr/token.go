// Tokens of SMTP paths and address headers, in pkg/rfc822's strict syntax.

package addr

import "github.com/postern/postern/pkg/rfc822"

type token = rfc822.Token

// tokenize splits a path into tokens with white space and comments
// dropped; any syntax error is ErrBadPath.
func tokenize(s string) ([]token, error) {
	toks, err := rfc822.Tokenize(s, rfc822.Path)
	if err != nil {
		return nil, ErrBadPath
	}
	return toks, nil
}

// indexKind returns the index of the first token of the kind, or -1.
func indexKind(toks []token, kind rfc822.Kind) int {
	for i, t := range toks {
		if t.Kind == kind {
			return i
		}
	}
	return -1
}
