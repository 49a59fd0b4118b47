// Package mailbox writes messages into Maildir directories and mbox files,
// as Postfix's local(8) and virtual(8) do, optionally in a child process
// that runs with the recipient's uid and gid.
package mailbox
