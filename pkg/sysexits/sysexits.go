// Package sysexits gives the meaning of the sysexits(3) exit statuses a
// command uses to say why a delivery failed, with the enhanced status
// codes and texts Postfix uses for them.
package sysexits

// Detail is what one exit status means.
type Detail struct {
	DSN       string // enhanced status code, "5.1.1"
	Text      string // "user unknown"
	Temporary bool   // the delivery is deferred, not bounced
}

// TempFail is EX_TEMPFAIL.
const TempFail = 75

var table = map[int]Detail{
	64: {"5.3.0", "command line usage error", false},
	65: {"5.6.0", "data format error", false},
	66: {"5.3.0", "cannot open input", false},
	67: {"5.1.1", "user unknown", false},
	68: {"5.1.2", "host name unknown", false},
	69: {"5.3.0", "service unavailable", false},
	70: {"5.3.0", "internal software error", false},
	71: {"4.3.0", "system resource problem", true},
	72: {"5.3.0", "critical OS file missing", false},
	73: {"5.2.0", "can't create user output file", false},
	74: {"5.3.0", "input/output error", false},
	75: {"4.3.0", "temporary failure", true},
	76: {"5.5.0", "remote error in protocol", false},
	77: {"5.7.0", "permission denied", false},
	78: {"5.3.5", "local configuration error", false},
}

// Lookup returns the meaning of status; ok is false for a status that is
// not a sysexits(3) code.
func Lookup(status int) (d Detail, ok bool) {
	d, ok = table[status]
	return d, ok
}

// Software is the detail Postfix falls back to for a command that failed
// without a meaningful status (EX_SOFTWARE).
func Software() Detail { return table[70] }
