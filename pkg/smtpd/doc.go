// Package smtpd is Postern's SMTP server protocol engine: Postfix's smtpd
// dialogue over one client connection, with its exact reply texts, EHLO
// keyword order, log lines ("connect from", NOQUEUE rejects, "ID: client=",
// "disconnect from ... commands=N") and limits (smtpd_timeout,
// smtpd_hard_error_limit, line_length_limit, message_size_limit,
// smtpd_recipient_limit).
//
// The protocol loop is Postern's own rather than github.com/emersion/go-smtp:
// go-smtp fixes the banner and success texts ("ESMTP Service Ready"),
// applies its line limit to DATA lines (Postfix accepts long content lines),
// delivers bare <LF> and bare <CR> to the backend unchanged with no way to
// tell <CR><LF>.<CR><LF> from <LF>.<CR><LF>, and starts the backend session
// at EHLO rather than at connect. Postfix's replies and
// smtpd_forbid_bare_newline need control of every line read, which a small
// line-based server gives with less code than a wrapped or forked library.
//
// Messages are streamed to cleanup (pkg/ipc) while they are read, never held
// in memory; the client gets "250 2.0.0 Ok: queued as ID" only after cleanup
// answered with the queue ID. As in Postfix, cleanup creates the queue file
// at the first accepted recipient: the "ID: client=NAME[IP]" line is logged
// then, rejects before it say NOQUEUE and rejects after it name the ID.
package smtpd
