// The TLS client certificate checks: permit_tls_clientcerts,
// permit_tls_all_clientcerts (with relay_clientcerts) and
// check_ccert_access, by certificate and public key fingerprint.

package policy

import (
	"fmt"

	"github.com/postern/postern/pkg/maps"
)

// permitClientCert implements permit_tls_clientcerts and, with all,
// permit_tls_all_clientcerts: a verified certificate is enough for the
// latter; otherwise the certificate's or its public key's fingerprint
// must be in relay_clientcerts (verified or not: the fingerprint pins it).
func (e *evaluation) permitClientCert(all bool) Decision {
	cert := e.s.ClientCert
	if cert == nil {
		return Decision{}
	}
	if all && cert.Trusted {
		return Decision{Action: Permit}
	}
	for _, print := range []string{cert.Fingerprint, cert.PubkeyFingerprint} {
		for _, t := range e.c.relayClientCerts {
			_, found, err := t.Lookup(print)
			if err != nil {
				e.c.warn(fmt.Sprintf("relay_clientcerts: lookup error for fingerprint '%s', pkey fingerprint %s", cert.Fingerprint, cert.PubkeyFingerprint))
				return serverConfigError
			}
			if found {
				return Decision{Action: Permit}
			}
		}
	}
	return Decision{}
}

// checkClientCert implements check_ccert_access: the certificate
// fingerprint, then the public key fingerprint, as access table keys; a
// reply names the certificate's common name.
func (e *evaluation) checkClientCert(t maps.Table) Decision {
	cert := e.s.ClientCert
	if cert == nil {
		if !e.c.set.AskClientCert {
			e.c.warn(`check_ccert_access is requested, but "smtpd_tls_ask_ccert = no"`)
		}
		return Decision{}
	}
	ctx := replyContext{name: cert.CommonName, class: classClientCert}
	for _, print := range []string{cert.Fingerprint, cert.PubkeyFingerprint} {
		if d := e.checkAccess(t, []lookupKey{{key: print}}, ctx); d.Action != Dunno {
			return d
		}
	}
	return Decision{}
}
