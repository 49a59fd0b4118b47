// Package sasl is the client side of Dovecot's authentication protocol
// (version 1.x), the SASL server behind smtpd's AUTH command with
// smtpd_sasl_type = dovecot.
//
// A Client keeps one connection to Dovecot's auth service
// (smtpd_sasl_path: a Unix socket such as "private/auth", relative to the
// queue directory so that a chrooted smtpd reaches it, or
// "inet:host:port") and shares it between all SMTP sessions of the
// process: requests carry their own IDs and replies are dispatched to the
// session that waits for them. The handshake (VERSION and CPID from us;
// VERSION, MECH, SPID, CUID, COOKIE and DONE from Dovecot) tells which
// mechanisms Dovecot offers and with which properties (plaintext,
// anonymous, ...), which smtpd_sasl_security_options filter. When
// Dovecot goes away the connection is dropped; the next request dials
// again, so smtpd serves on while Dovecot restarts.
//
// The package never decodes credentials: responses travel base64-encoded
// from the SMTP client to Dovecot and back, as in Postfix.
package sasl
