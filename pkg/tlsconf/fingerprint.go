// Certificate and public key fingerprints (smtpd_tls_fingerprint_digest, smtp_tls_fingerprint_digest).

package tlsconf

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"fmt"
	"strings"
)

// Fingerprint is Postfix's certificate fingerprint: the digest of der
// in upper-case hexadecimal bytes separated by colons.
func Fingerprint(digest string, der []byte) string {
	var sum []byte
	switch strings.ToLower(digest) {
	case "md5":
		d := md5.Sum(der)
		sum = d[:]
	case "sha1":
		d := sha1.Sum(der)
		sum = d[:]
	case "sha224":
		d := sha256.Sum224(der)
		sum = d[:]
	case "sha384":
		d := sha512.Sum384(der)
		sum = d[:]
	case "sha512":
		d := sha512.Sum512(der)
		sum = d[:]
	default:
		d := sha256.Sum256(der)
		sum = d[:]
	}
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(parts, ":")
}

// SameFingerprint reports whether two fingerprints are equal, ignoring
// case and the colons between bytes.
func SameFingerprint(a, b string) bool {
	norm := func(s string) string { return strings.ToUpper(strings.ReplaceAll(s, ":", "")) }
	return norm(a) == norm(b)
}
