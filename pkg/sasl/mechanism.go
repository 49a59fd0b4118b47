// Mechanisms as Dovecot announces them, and the security-option filter of
// smtpd_sasl_security_options / smtpd_sasl_tls_security_options.

package sasl

import (
	"fmt"
	"strings"
)

// Property is a property Dovecot announces for a mechanism in its MECH
// line.
type Property uint

// The mechanism properties of the Dovecot protocol.
const (
	PropAnonymous      Property = 1 << iota // "anonymous"
	PropPlaintext                           // "plaintext": the password travels in the clear
	PropDictionary                          // "dictionary": open to dictionary attacks
	PropActive                              // "active": open to active (non-dictionary) attacks
	PropForwardSecrecy                      // "forward-secrecy"
	PropMutualAuth                          // "mutual-auth"
	PropPrivate                             // "private": not to be offered to clients
)

var propertyNames = map[string]Property{
	"anonymous": PropAnonymous, "plaintext": PropPlaintext, "dictionary": PropDictionary,
	"active": PropActive, "forward-secrecy": PropForwardSecrecy, "mutual-auth": PropMutualAuth,
	"private": PropPrivate,
}

// Mechanism is one SASL mechanism Dovecot offers.
type Mechanism struct {
	Name       string // upper case, e.g. "PLAIN"
	Properties Property
}

// SecurityOptions is a parsed smtpd_sasl_security_options value: the
// properties a mechanism must not have (noplaintext, ...) and those it
// must have (mutual_auth, forward_secrecy).
type SecurityOptions struct {
	Forbid  Property
	Require Property
}

// ParseSecurityOptions parses a list such as "noanonymous, noplaintext".
// Unknown words are an error, as in Postfix.
func ParseSecurityOptions(value string) (SecurityOptions, error) {
	var o SecurityOptions
	for _, w := range strings.FieldsFunc(value, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' }) {
		switch strings.ToLower(w) {
		case "noanonymous":
			o.Forbid |= PropAnonymous
		case "noplaintext":
			o.Forbid |= PropPlaintext
		case "nodictionary":
			o.Forbid |= PropDictionary
		case "noactive":
			o.Forbid |= PropActive
		case "forward_secrecy":
			o.Require |= PropForwardSecrecy
		case "mutual_auth":
			o.Require |= PropMutualAuth
		default:
			return SecurityOptions{}, fmt.Errorf("unknown SASL security option: %q", w)
		}
	}
	return o, nil
}

// Filter returns the names of the mechanisms that the options allow, in
// Dovecot's order.
func (o SecurityOptions) Filter(mechs []Mechanism) []string {
	var names []string
	for _, m := range mechs {
		if m.Properties&o.Forbid == 0 && m.Properties&o.Require == o.Require {
			names = append(names, m.Name)
		}
	}
	return names
}

// parseMech parses the arguments of a MECH line; private mechanisms are
// skipped (ok = false).
func parseMech(args []string) (m Mechanism, ok bool) {
	if len(args) == 0 || args[0] == "" {
		return m, false
	}
	m.Name = strings.ToUpper(args[0])
	for _, a := range args[1:] {
		m.Properties |= propertyNames[strings.ToLower(a)]
	}
	return m, m.Properties&PropPrivate == 0
}
