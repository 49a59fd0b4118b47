// The final deliveries: the user's mailbox, a file, a forwarded copy, and expansion of .forward and :include: files.

package local

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/postern/postern/pkg/aliases"
	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/mailbox"
	"github.com/postern/postern/pkg/privs"
)

// mailbox delivers to u's mailbox: through mailbox_command when set,
// else to a Maildir or mbox under the home directory per home_mailbox,
// else to mail_spool_directory/USER.
func (d *delivery) mailbox(addr string, u *User, sender string) {
	s := d.agent.Settings
	if d.mailboxTransport(addr, u.Name) {
		return
	}
	cmd, err := d.mailboxCommandFor(u)
	if err != nil {
		d.agent.Log.Warning("%s: %v", d.req.QueueID, err)
		d.add(addr, deferred("4.3.0", "mailbox_command_maps lookup failure"))
		return
	}
	if cmd != "" {
		d.mailboxCommand(addr, u, sender, cmd)
		return
	}
	req := &mailbox.Request{User: u.Name, Locks: s.Locks, Limit: s.MailboxSizeLimit,
		StrictOwner: d.agent.Privileged && s.StrictMailboxOwnership, Owner: int(u.UID)}
	if s.HomeMailbox != "" {
		req.Path = strings.TrimSuffix(u.Home, "/") + "/" + s.HomeMailbox
		req.Maildir = strings.HasSuffix(s.HomeMailbox, "/")
	} else {
		req.Path = strings.TrimSuffix(s.MailSpoolDirectory, "/") + "/" + u.Name
	}
	text := "delivered to mailbox"
	if req.Maildir {
		text = "delivered to maildir"
	}
	if s.HomeMailbox == "" {
		if d.agent.Privileged && !d.verify {
			if err := createSpoolMailbox(req.Path, u); err != nil {
				d.agent.Log.Warning("%s: %v", d.req.QueueID, err)
				d.add(addr, failed(mailbox.OpenError(req.Path, u.Name, err)))
				return
			}
		}
		u = withSpoolGroup(u, s.MailSpoolDirectory)
	}
	d.write(addr, u, sender, req, text)
}

// mailboxTransport hands the mailbox delivery for user to
// mailbox_transport_maps' or mailbox_transport's transport, and reports
// whether it did (or failed for now). As in Postfix this comes before
// the user's passwd entry is needed: a transport such as Dovecot's or
// Cyrus's LMTP serves users without a system account.
func (d *delivery) mailboxTransport(addr, user string) bool {
	s := d.agent.Settings
	transport, err := transportFor(s.MailboxTransportMaps, s.MailboxTransport, user)
	if err != nil {
		d.agent.Log.Warning("%s: %v", d.req.QueueID, err)
		d.add(addr, deferred("4.3.0", "mailbox_transport_maps lookup failure"))
		return true
	}
	if transport == "" {
		return false
	}
	d.pass(addr, transport)
	return true
}

// mailboxCommand runs mailbox_command (or u's mailbox_command_maps
// entry) with u's privileges, or default_privs' for root. As in Postfix
// local expands nothing in it: the shell sees the recipient's data only
// through the censored environment ($RECIPIENT, $EXTENSION, ...).
func (d *delivery) mailboxCommand(addr string, u *User, sender, cmd string) {
	d.command(origin{kind: "mailbox", owner: u, addr: strings.ToLower(addr)}, cmd, sender)
}

// mailboxCommandFor is the command that delivers u's mail: u's entry in
// mailbox_command_maps, else mailbox_command; "" for none.
func (d *delivery) mailboxCommandFor(u *User) (string, error) {
	s := d.agent.Settings
	for _, t := range s.MailboxCommandMaps {
		cmd, found, err := t.Lookup(u.Name)
		if err != nil {
			return "", fmt.Errorf("%s: table lookup problem: %w", t.Spec(), err)
		}
		if found {
			return cmd, nil
		}
	}
	return s.MailboxCommand, nil
}

// withSpoolGroup gives u, for a delivery to its spool mailbox, the group
// of a spool directory that is group-writable but not world-writable
// (root:mail 2775 on Debian) instead of its own, so that the delivery
// can create the mailbox's dot-lock there: Postfix opens and locks the
// mailbox with the recipient's user ID and the spool directory's group
// as its only group.
func withSpoolGroup(u *User, spool string) *User {
	st, err := os.Stat(spool)
	if err != nil || st.Mode().Perm()&0o002 != 0 || st.Mode().Perm()&0o020 == 0 {
		return u
	}
	gid := st.Sys().(*syscall.Stat_t).Gid
	if gid == u.GID {
		return u
	}
	withGroup := *u
	withGroup.GID = gid
	return &withGroup
}

// createSpoolMailbox creates a missing mbox file in the spool directory
// as root, owned by u with mode 0600, as Postfix does where users cannot
// create files in the spool directory. The file gets its name only once
// it is u's: a delivery running at the same time, which opens the
// mailbox as u, never finds it still root's. Where the file system has
// no unnamed files (O_TMPFILE), it is created under its name and then
// given to u.
func createSpoolMailbox(path string, u *User) error {
	if _, err := os.Lstat(path); err == nil {
		return nil
	}
	fd, err := unix.Open(filepath.Dir(path), unix.O_WRONLY|unix.O_TMPFILE|unix.O_CLOEXEC, 0o600)
	switch err {
	case nil:
	case unix.EOPNOTSUPP, unix.EISDIR, unix.EINVAL:
		return createSpoolMailboxNamed(path, u)
	default:
		return fmt.Errorf("create mailbox %s: %w", path, &os.PathError{Op: "open", Path: path, Err: err})
	}
	defer unix.Close(fd)
	if err := unix.Fchown(fd, int(u.UID), int(u.GID)); err != nil {
		return fmt.Errorf("chown mailbox %s: %w", path, &os.PathError{Op: "chown", Path: path, Err: err})
	}
	err = unix.Linkat(fd, "", unix.AT_FDCWD, path, unix.AT_EMPTY_PATH)
	if err == unix.EPERM {
		// Without CAP_DAC_READ_SEARCH (before Linux 6.10): through /proc.
		err = unix.Linkat(unix.AT_FDCWD, "/proc/self/fd/"+strconv.Itoa(fd), unix.AT_FDCWD, path, unix.AT_SYMLINK_FOLLOW)
	}
	if err != nil && err != unix.EEXIST {
		return fmt.Errorf("create mailbox %s: %w", path, &os.PathError{Op: "link", Path: path, Err: err})
	}
	return nil
}

// createSpoolMailboxNamed is createSpoolMailbox where a file is created
// under its name: for a moment it is root's.
func createSpoolMailboxNamed(path string, u *User) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o600)
	if errors.Is(err, os.ErrExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create mailbox %s: %w", path, err)
	}
	defer f.Close()
	if err := f.Chown(int(u.UID), int(u.GID)); err != nil {
		os.Remove(path)
		return fmt.Errorf("chown mailbox %s: %w", path, err)
	}
	return nil
}

// file appends to an mbox file, or a Maildir when path ends in "/", with
// the privileges of the alias or .forward owner. Like a command, it is
// logged under the address whose expansion named it.
func (d *delivery) file(from origin, path, sender string) {
	s := d.agent.Settings
	owner, ok := d.withoutRoot(from.addr, from.owner)
	if !ok {
		return
	}
	from.owner = owner
	req := &mailbox.Request{Path: path, Maildir: strings.HasSuffix(path, "/"), File: true, Locks: s.Locks, Limit: s.MailboxSizeLimit}
	d.write(from.addr, from.owner, sender, req, "delivered to file: "+path)
}

// write carries out a mailbox request as u, with the delivering thread's
// effective IDs switched to u's when privileged, and records the outcome under the address to.
func (d *delivery) write(to string, u *User, sender string, req *mailbox.Request, text string) {
	if !d.firstTime("path:"+req.Path) || !d.mayRunAs(to, u) {
		return
	}
	if d.verify {
		d.add(to, sent(strings.Replace(text, "delivered", "delivers", 1)))
		return
	}
	req.Message = mailbox.Message{Sender: sender, Recipient: d.deliveredToHeader(to), OriginalRecipient: d.original(), Time: time.Now()}
	content, err := d.open()
	if err != nil {
		d.add(to, deferred("4.3.0", fmt.Sprintf("error reading message content: %v", err)))
		return
	}
	defer content.Close()
	if d.agent.Privileged && u.UID != 0 {
		err = privs.AsUser(u.ThreadCredential(), func() error { return mailbox.Deliver(req, content) })
	} else {
		err = mailbox.Deliver(req, content)
	}
	if err != nil {
		var failure *mailbox.Error
		if !errors.As(err, &failure) {
			failure = &mailbox.Error{DSN: "4.3.0", Text: err.Error()}
		}
		if failure.Warning != "" {
			d.agent.Log.Warning("%s", failure.Warning)
		}
		d.add(to, failed(failure))
		return
	}
	d.add(to, sent(text))
}

// failed is the result of a failed mailbox delivery.
func failed(failure *mailbox.Error) ipc.RecipientResult {
	if failure.Permanent {
		return bounced(failure.DSN, failure.Text)
	}
	return deferred(failure.DSN, failure.Text)
}

// deliveredToHeader is the Delivered-To: address of a delivery made while
// expanding the address current: with frozen_delivered_to (Postfix's
// default) the recipient as local received it, else current.
func (d *delivery) deliveredToHeader(current string) string {
	if d.agent.Settings.FrozenDeliveredTo {
		return d.rcpt.Address
	}
	return current
}

// original is the X-Original-To: address: the request recipient before
// any rewriting.
func (d *delivery) original() string {
	if d.rcpt.OriginalRecipient != "" {
		return d.rcpt.OriginalRecipient
	}
	return d.rcpt.Address
}

// mayRunAs reports whether a delivery as u is possible: always when
// privileged, else only when u is this process's own user. A refusal is
// recorded as a deferral.
func (d *delivery) mayRunAs(to string, u *User) bool {
	if u == nil {
		d.add(to, deferred("4.3.5", "mail system configuration error"))
		return false
	}
	if d.agent.Privileged || u.UID == uint32(os.Geteuid()) {
		return true
	}
	d.add(to, deferred("4.3.0", fmt.Sprintf("cannot deliver as user %s: local is not running as root", u.Name)))
	return false
}

// forward resubmits the message to the remote addresses that the
// expansion of from named, with its Delivered-To: header.
func (d *delivery) forward(from string, to []string, sender string) {
	if d.verify {
		for _, addr := range to {
			d.add(addr, sent("forwards to "+addr))
		}
		return
	}
	content, err := d.open()
	if err != nil {
		for _, addr := range to {
			d.add(addr, deferred("4.3.0", fmt.Sprintf("error reading message content: %v", err)))
		}
		return
	}
	defer content.Close()
	header := strings.NewReader("Delivered-To: " + d.deliveredToHeader(from) + "\n")
	id, err := d.agent.Submit(d.ctx, sender, to, io.MultiReader(header, content))
	for _, addr := range to {
		if err != nil {
			d.agent.Log.Warning("%s: forward to %s: %v", d.req.QueueID, addr, err)
			d.add(addr, deferred("4.3.0", "mail forwarding error: cannot submit to cleanup"))
		} else {
			d.add(addr, sent("forwarded as "+id))
		}
	}
}

// dotForward expands the first forward_path file that exists. It reports
// whether the address was handled (an empty file means no forwarding).
func (d *delivery) dotForward(addr, key string, u *User, sender string, depth int, seen visited, vars map[string]string) bool {
	s := d.agent.Settings
	// As in Postfix: split forward_path first, then expand each entry
	// with values censored by forward_expansion_filter, so that an
	// address extension can neither add a path nor leave the filter's
	// characters.
	censored := make(map[string]string, len(vars))
	for k, v := range vars {
		censored[k] = censor(v, s.ForwardExpansionFilter)
	}
	for _, pattern := range strings.FieldsFunc(s.ForwardPath, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' }) {
		path, err := s.Config.ExpandWith(pattern, censored)
		if err != nil {
			d.agent.Log.Warning("%s: forward_path: %v", d.req.QueueID, err)
			d.add(addr, deferred("4.3.5", "mail system configuration error"))
			return true
		}
		if path == "" {
			continue
		}
		// As Postfix: the first forward_path file that exists is the
		// one; it is used only when it is a regular file owned by the
		// user (or root) and not world-writable, opened with the user's
		// rights. Otherwise the user gets the mail in the mailbox.
		lf, err := openListFile(path, u, d.agent.Privileged, false)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if errors.Is(err, errNotRegular) {
			d.agent.Log.Warning("file %s is not a regular file", path)
			return false
		}
		if err != nil {
			d.agent.Log.Warning("cannot open file %s: %v", path, unwrapPath(err))
			return false
		}
		switch {
		case lf.st.Uid != 0 && lf.st.Uid != u.UID:
			lf.f.Close()
			d.agent.Log.Warning("file %s has bad owner uid %d", path, lf.st.Uid)
			return false
		case lf.st.Mode&0o002 != 0:
			lf.f.Close()
			d.agent.Log.Warning("file %s is world writable", path)
			return false
		}
		text, err := lf.read()
		if err != nil {
			d.agent.Log.Warning("%s: %v", d.req.QueueID, err)
			d.add(addr, deferred("4.3.0", "cannot read forward file "+path))
			return true
		}
		items := aliases.ParseValue(listFileValue(text))
		if len(items) == 0 {
			return false
		}
		d.items(items, origin{kind: "forward", owner: u, addr: key}, sender, depth+1, seen.with("", vars["user"]))
		return true
	}
	return false
}

// include expands an :include: file as Postfix's local(8) does: it must
// be an absolute path to a regular file that is not world-writable,
// looked up and read with the current delivery rights. Under root's
// rights (a root-owned alias table) the rights become those of the
// file's owner; under a user's rights they stay, so that nobody acts
// with someone else's rights by including their file.
func (d *delivery) include(from origin, path, sender string, depth int, seen visited) {
	if depth > maxDepth {
		d.agent.Log.Warning(":include: nesting limit exceeded for %s", path)
		d.add(from.addr, bounced("5.4.6", ":include: nesting limit exceeded"))
		return
	}
	configError := func(format string, args ...any) {
		d.agent.Log.Warning(format, args...)
		d.add(from.addr, bounced("5.3.5", "mail system configuration error"))
	}
	if !strings.HasPrefix(path, "/") {
		configError(":include:%s uses a relative path", path)
		return
	}
	rights := from.owner
	lf, err := openListFile(path, rights, d.agent.Privileged, true)
	if errors.Is(err, errNotRegular) {
		configError(":include: file %s is not a regular file", path)
		return
	}
	if err != nil {
		configError("unable to lookup :include: file %s: %v", path, unwrapPath(err))
		return
	}
	if lf.st.Mode&0o002 != 0 {
		lf.f.Close()
		configError(":include: file %s is world writable", path)
		return
	}
	if d.agent.Privileged && rights != nil && rights.UID == 0 && lf.st.Uid != 0 {
		owner, err := d.agent.LookupUID(lf.st.Uid)
		if err != nil || owner == nil {
			lf.f.Close()
			d.agent.Log.Warning("%s: cannot find :include: file owner username", path)
			d.add(from.addr, deferred("4.3.5", "mail system configuration error"))
			return
		}
		// Read it again with the rights it will be delivered with.
		lf.f.Close()
		rights = owner
		if lf, err = openListFile(path, rights, true, true); err != nil {
			configError("cannot open include file %s: %v", path, unwrapPath(err))
			return
		}
	}
	text, err := lf.read()
	if err != nil {
		d.agent.Log.Warning("%s: %v", d.req.QueueID, err)
		d.add(from.addr, deferred("4.3.0", "cannot read include file "+path))
		return
	}
	d.items(aliases.ParseValue(listFileValue(text)), origin{kind: "include", owner: rights, addr: from.addr}, sender, depth+1, seen)
}

// unwrapPath drops the path an *os.PathError repeats.
func unwrapPath(err error) error {
	var pathErr *os.PathError
	if errors.As(err, &pathErr) {
		return pathErr.Err
	}
	return err
}
