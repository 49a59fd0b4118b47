// The texts Postfix logs when a peer's certificate fails verification.

package tlsconf

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"
)

// VerifyFailure is the line Postfix logs when err (from
// x509.Certificate.Verify of leaf) says why the chain of peer ("host[addr]:port"
// or "host[addr]") is not trusted. peerRole is "server" or "client".
func VerifyFailure(err error, leaf *x509.Certificate, peer, peerRole string) string {
	var unknown x509.UnknownAuthorityError
	var invalid x509.CertificateInvalidError
	failed := "certificate verification failed for " + peer + ": "
	switch {
	case errors.As(err, &unknown):
		if leaf != nil && bytes.Equal(leaf.RawIssuer, leaf.RawSubject) && leaf.CheckSignature(leaf.SignatureAlgorithm, leaf.RawTBSCertificate, leaf.Signature) == nil {
			return failed + "self-signed certificate"
		}
		return failed + "untrusted issuer " + onelineName(leaf)
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		if leaf != nil && time.Now().Before(leaf.NotBefore) {
			return peerRole + " " + failed + "certificate not yet valid"
		}
		return peerRole + " " + failed + "certificate has expired"
	case errors.As(err, &invalid) && invalid.Reason == x509.IncompatibleUsage:
		return failed + "not designated for use as a " + peerRole + " certificate"
	}
	return peerRole + " " + failed + "num=0:" + err.Error()
}

// onelineName is OpenSSL's one-line form of the certificate's issuer:
// "/C=US/O=Example/CN=Example CA".
func onelineName(leaf *x509.Certificate) string {
	if leaf == nil {
		return "<unknown>"
	}
	var b strings.Builder
	for _, rdn := range leaf.Issuer.ToRDNSequence() {
		for _, atv := range rdn {
			key := atv.Type.String()
			switch key {
			case "2.5.4.3":
				key = "CN"
			case "2.5.4.6":
				key = "C"
			case "2.5.4.10":
				key = "O"
			case "2.5.4.11":
				key = "OU"
			case "2.5.4.7":
				key = "L"
			case "2.5.4.8":
				key = "ST"
			}
			fmt.Fprintf(&b, "/%s=%v", key, atv.Value)
		}
	}
	return b.String()
}
