// Package tlsconf speaks Postfix's TLS vocabulary on top of crypto/tls:
// protocol lists (">=TLSv1.2", "!SSLv3"), cipher grades and exclusions,
// OpenSSL's cipher names, the session summary that Postfix logs and puts
// in Received: headers, and the texts of certificate verification
// failures.
package tlsconf
