// Lookup failures worded as Postfix's smtp client reports them.

package dnsx

import "fmt"

// Error is a failed lookup with the delivery verdict it implies.
type Error struct {
	// Temporary means the recipient is deferred rather than bounced.
	Temporary bool
	// DSN is the enhanced status code, "4.4.3" or "5.4.4".
	DSN string
	// Text is the reason as Postfix logs it.
	Text string
}

func (e *Error) Error() string { return e.Text }

// nameServiceError builds Postfix's "Host or domain name not found" text
// for a query of qtype about name that failed with reason.
func nameServiceError(name, qtype string, temporary bool, reason string) *Error {
	dsn := "5.4.4"
	if temporary {
		dsn = "4.4.3"
	}
	return &Error{
		Temporary: temporary,
		DSN:       dsn,
		Text:      fmt.Sprintf("Host or domain name not found. Name service error for name=%s type=%s: %s", name, qtype, reason),
	}
}

// Reasons, as Postfix's resolver error strings word them.
const (
	reasonNotFound = "Host not found"
	reasonTryAgain = "Host not found, try again"
	reasonNoData   = "Host found but no data record of requested type"
)

// NullMXError is the bounce for a domain that publishes a null MX (RFC 7505).
func NullMXError(domain string) *Error {
	return &Error{DSN: "5.1.10", Text: fmt.Sprintf("Domain %s does not accept mail (nullMX)", domain)}
}
