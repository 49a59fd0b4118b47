// Relay control: permit_auth_destination, reject_unauth_destination and
// defer_unauth_destination on the resolved recipient.

package policy

import (
	"fmt"

	"github.com/postern/postern/pkg/resolve"
)

// resolvedRecipient resolves the recipient once per evaluation.
func (e *evaluation) resolvedRecipient() (*resolve.Result, error) {
	if e.recipient == nil {
		res, err := e.c.resolver.Resolve(e.s.Recipient.Internal())
		if err != nil {
			return nil, err
		}
		e.recipient = &res
	}
	return e.recipient, nil
}

// relayCheck implements permit_auth_destination, reject_unauth_destination
// and defer_unauth_destination: the resolved recipient must have a final
// destination or a relay_domains domain, and no sender-specified routing
// unless allow_untrusted_routing = yes.
func (e *evaluation) relayCheck(name string) Decision {
	res, err := e.resolvedRecipient()
	if err != nil {
		e.c.warn(err.Error())
		return tempFailure(e.s.Recipient.Internal())
	}
	authorized := (res.Class.Final() || res.Class == resolve.ClassRelay) &&
		(e.c.set.AllowUntrustedRouting || !res.Routed)
	switch {
	case name == "permit_auth_destination":
		return permitIf(authorized)
	case authorized:
		return Decision{}
	}
	code, dsn := e.c.set.RelayRejectCode, "5.7.1"
	if name == "defer_unauth_destination" {
		code, dsn = e.c.set.RelayRejectCode-100, "4.7.1"
	}
	return Decision{Action: actionFor(code), Code: code, DSN: dsnForCode(code, dsn), Text: fmt.Sprintf("<%s>: Relay access denied", e.s.Recipient.Internal())}
}
