// Recipient resolution: aliases, .forward files, :include: files, luser_relay and the mailbox, with loop detection.

package local

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"

	"github.com/postern/postern/pkg/aliases"
	"github.com/postern/postern/pkg/ipc"
)

// maxDepth bounds alias, .forward and :include: nesting.
const maxDepth = 100

// outcome is the result of one final delivery (mailbox, file, command or
// forwarding) made for a recipient of the request.
type outcome struct {
	to  string // the address logged as to=
	res ipc.RecipientResult
	// passed is true for a delivery handed to another transport, which
	// logged it.
	passed bool
}

// delivery is the work for one recipient of a request.
type delivery struct {
	agent       *Agent
	ctx         context.Context
	req         *ipc.DeliveryRequest
	rcpt        ipc.Recipient // the request's recipient being delivered
	open        func() (io.ReadCloser, error)
	deliveredTo map[string]bool
	// done holds the mailboxes, files, commands and remote addresses
	// already delivered to for this request: each gets one copy.
	done     map[string]bool
	verify   bool
	outcomes []outcome
	attrs    map[string]string // the queue file's named attributes, read on first use
}

// visited holds the alias names and users whose .forward were expanded on
// the way to an address: meeting one again means "deliver to the mailbox".
type visited struct {
	aliases  map[string]bool
	forwards map[string]bool
}

func (v visited) with(alias, forward string) visited {
	next := visited{aliases: map[string]bool{}, forwards: map[string]bool{}}
	for k := range v.aliases {
		next.aliases[k] = true
	}
	for k := range v.forwards {
		next.forwards[k] = true
	}
	if alias != "" {
		next.aliases[alias] = true
	}
	if forward != "" {
		next.forwards[forward] = true
	}
	return next
}

// origin says where an alias value item came from, which decides what it
// may do and whose privileges it runs with.
type origin struct {
	kind  string // "alias", "forward" or "include"
	owner *User  // whose privileges commands and files run with
	addr  string // the local address being expanded: Delivered-To of forwarded mail
}

// firstTime reports whether the delivery named key was not made yet for
// this request, and records it.
func (d *delivery) firstTime(key string) bool {
	if d.done[key] {
		return false
	}
	d.done[key] = true
	return true
}

func (d *delivery) add(to string, res ipc.RecipientResult) {
	d.outcomes = append(d.outcomes, outcome{to: to, res: res})
}

func sent(text string) ipc.RecipientResult {
	return ipc.RecipientResult{Status: ipc.StatusSent, DSNCode: "2.0.0", Reply: text}
}

func deferred(dsn, text string) ipc.RecipientResult {
	return ipc.RecipientResult{Status: ipc.StatusDeferred, DSNCode: dsn, Reply: text}
}

func bounced(dsn, text string) ipc.RecipientResult {
	return ipc.RecipientResult{Status: ipc.StatusBounced, DSNCode: dsn, Reply: text}
}

// splitAddress splits addr at its last "@".
func splitAddress(addr string) (localPart, domain string) {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return addr[:i], addr[i+1:]
	}
	return addr, ""
}

// recipient delivers to the local address addr: aliases, then .forward,
// then the mailbox.
func (d *delivery) recipient(addr, sender string, depth int, seen visited) {
	s := d.agent.Settings
	localPart, domain := splitAddress(addr)
	name := strings.ToLower(localPart)
	if domain == "" {
		domain = s.MyOrigin
	}
	key := strings.ToLower(name + "@" + domain)
	if d.deliveredTo[key] {
		d.add(addr, bounced("5.4.6", "mail forwarding loop for "+key))
		return
	}
	if depth > maxDepth {
		d.add(addr, bounced("5.4.6", "mail forwarding loop for "+key))
		return
	}
	if !s.AllowMinUser && strings.HasPrefix(name, "-") {
		d.add(addr, bounced("5.1.3", "bad address syntax"))
		return
	}
	user, ext, _ := s.Extensions.Split(name)
	if strings.Contains(ext, "/") {
		// As Postfix: the extension is dropped (from forward_path and
		// commands); the user stays without it.
		d.agent.Log.Warning("%s: address with illegal extension: %s", d.req.QueueID, name)
		ext = ""
	}
	if done := d.alias(addr, key, name, user, sender, depth, seen); done {
		return
	}
	u, err := d.agent.LookupUser(user)
	if err != nil {
		d.agent.Log.Warning("%s: %v", d.req.QueueID, err)
		d.add(addr, deferred("4.3.0", "user lookup error"))
		return
	}
	vars := map[string]string{"user": user, "extension": ext, "recipient_delimiter": s.Extensions.Delimiter,
		"local": name, "domain": domain, "recipient": addr}
	if u == nil {
		if !d.mailboxTransport(addr, user) {
			d.unknownUser(addr, user, sender, depth, seen, vars)
		}
		return
	}
	vars["home"], vars["shell"] = u.Home, u.Shell
	if !seen.forwards[user] && d.dotForward(addr, key, u, sender, depth, seen, vars) {
		return
	}
	d.mailbox(addr, u, sender)
}

// alias expands name (or user, without the extension) from alias_maps.
// It reports whether the address was handled.
func (d *delivery) alias(addr, key, name, user, sender string, depth int, seen visited) bool {
	for _, candidate := range []string{name, user} {
		if seen.aliases[candidate] {
			return false
		}
		value, owner, found, err := d.lookupAlias(candidate)
		if err != nil {
			d.agent.Log.Warning("%s: %v", d.req.QueueID, err)
			d.add(addr, deferred("4.3.0", "alias database unavailable"))
			return true
		}
		if !found {
			continue
		}
		// As Postfix, owner- aliases only with owner_request_special.
		if d.agent.Settings.Extensions.OwnerRequestSpecial {
			if _, _, ok, _ := d.lookupAlias("owner-" + candidate); ok {
				sender = "owner-" + candidate + "@" + d.agent.Settings.MyOrigin
			}
		}
		d.items(aliases.ParseValue(value), origin{kind: "alias", owner: owner, addr: key}, sender, depth+1, seen.with(candidate, ""))
		return true
	}
	return false
}

// lookupAlias searches alias_maps for name and finds the user whose
// privileges its commands and files run with: the owner of the table's
// file, or default_privs when root owns it.
func (d *delivery) lookupAlias(name string) (value string, owner *User, found bool, err error) {
	for _, t := range d.agent.Settings.AliasMaps {
		value, found, err = t.Lookup(name)
		if err != nil {
			return "", nil, false, fmt.Errorf("%s: table lookup problem: %w", t.Spec(), err)
		}
		if found {
			owner, err = d.fileOwner(tableFile(t))
			return value, owner, true, err
		}
	}
	return "", nil, false, nil
}

// fileOwner is the owner of path, whose rights the commands and files
// of an alias table run with (root included: withoutRoot applies
// default_privs at delivery time). A table without a file (inline:,
// static:, regexp:{...}) comes from main.cf and is root's, as Postfix
// trusts such tables. An unprivileged agent runs them as itself.
func (d *delivery) fileOwner(path string) (*User, error) {
	a := d.agent
	if !a.Privileged {
		return selfUser(a.LookupUID)
	}
	if path == "" {
		return a.LookupUID(0)
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", path, err)
	}
	uid := st.Sys().(*syscall.Stat_t).Uid
	u, err := a.LookupUID(uid)
	if err == nil && u == nil {
		err = fmt.Errorf("%s: owner uid %d has no passwd entry", path, uid)
	}
	return u, err
}

// defaultPrivs is the default_privs user, for deliveries that would
// otherwise run as root (an unprivileged agent: itself).
func (d *delivery) defaultPrivs() (*User, error) {
	a := d.agent
	if !a.Privileged {
		return selfUser(a.LookupUID)
	}
	u, err := a.LookupUser(a.Settings.DefaultPrivs)
	if err == nil && u == nil {
		err = fmt.Errorf("unknown default_privs user: %s", a.Settings.DefaultPrivs)
	}
	return u, err
}

// withoutRoot returns u, or the default_privs user when u is root: as in
// Postfix, no command or file delivery runs as root, whether it comes
// from a root-owned alias table, root's .forward or mailbox_command for
// root. A failure is recorded as a deferral and reported as !ok.
func (d *delivery) withoutRoot(to string, u *User) (*User, bool) {
	if u == nil || u.UID != 0 || !d.agent.Privileged {
		return u, true
	}
	privs, err := d.defaultPrivs()
	if err != nil {
		d.agent.Log.Warning("%s: %v", d.req.QueueID, err)
		d.add(to, deferred("4.3.5", "mail system configuration error"))
		return nil, false
	}
	return privs, true
}

// unknownUser handles a user (the local part without its extension)
// that is neither an alias nor an account:
// luser_relay when set, else a bounce.
func (d *delivery) unknownUser(addr, user, sender string, depth int, seen visited, vars map[string]string) {
	s := d.agent.Settings
	fallback, err := transportFor(s.FallbackTransportMaps, s.FallbackTransport, addr)
	if err != nil {
		d.agent.Log.Warning("%s: %v", d.req.QueueID, err)
		d.add(addr, deferred("4.3.0", "fallback_transport_maps lookup failure"))
		return
	}
	if fallback != "" {
		d.pass(addr, fallback)
		return
	}
	if s.LuserRelay == "" {
		d.add(addr, bounced("5.1.1", fmt.Sprintf("unknown user: %q", user)))
		return
	}
	relay, err := s.Config.ExpandWith(s.LuserRelay, vars)
	if err != nil {
		d.agent.Log.Warning("%s: luser_relay: %v", d.req.QueueID, err)
		d.add(addr, deferred("4.3.5", "mail system configuration error"))
		return
	}
	owner, err := d.defaultPrivs()
	if err != nil {
		d.agent.Log.Warning("%s: %v", d.req.QueueID, err)
		d.add(addr, deferred("4.3.5", "mail system configuration error"))
		return
	}
	// One address, as in Postfix: never a list, a command or a file.
	relay = strings.TrimSpace(relay)
	d.items([]aliases.Item{{Kind: aliases.Address, Text: relay}}, origin{kind: "include", owner: owner, addr: strings.ToLower(addr)}, sender, depth+1, seen)
}

// items delivers each item of an alias, .forward or :include: value;
// addresses outside the local domains are forwarded in one new message.
func (d *delivery) items(items []aliases.Item, from origin, sender string, depth int, seen visited) {
	s := d.agent.Settings
	var remote []string
	for _, it := range items {
		switch it.Kind {
		case aliases.Address:
			addr := it.Text
			if strings.HasPrefix(addr, "\\") {
				// "\user" in a .forward: the user's own mailbox.
				addr = strings.TrimPrefix(addr, "\\")
				if u, err := d.agent.LookupUser(strings.ToLower(addr)); err == nil && u != nil {
					d.mailbox(qualify(addr, s.MyOrigin), u, sender)
					continue
				}
			}
			addr = qualify(addr, s.MyOrigin)
			if _, domain := splitAddress(addr); s.isLocalDomain(domain) {
				d.recipient(addr, sender, depth, seen)
			} else {
				if d.firstTime("forward:" + strings.ToLower(addr)) {
					remote = append(remote, addr)
				}
			}
		case aliases.Command:
			if !s.CommandsFrom[from.kind] {
				d.add(from.addr, bounced("5.7.1", "mail to command is restricted"))
				continue
			}
			d.command(from, it.Text, sender)
		case aliases.File:
			if !s.FilesFrom[from.kind] {
				d.add(from.addr, bounced("5.7.1", "mail to file is restricted"))
				continue
			}
			d.file(from, it.Text, sender)
		case aliases.Include:
			d.include(from, it.Text, sender, depth, seen)
		}
	}
	if len(remote) > 0 {
		d.forward(from.addr, remote, sender)
	}
}

// qualify appends "@domain" to a bare name.
func qualify(addr, domain string) string {
	if strings.Contains(addr, "@") {
		return addr
	}
	return addr + "@" + domain
}

// selfUser is this process's own user; one without a passwd entry gets
// a name of its uid and "/" as home.
func selfUser(lookup UserLookupByID) (*User, error) {
	uid := uint32(os.Geteuid())
	u, err := lookup(uid)
	if err != nil || u != nil {
		return u, err
	}
	return &User{Name: fmt.Sprint(uid), UID: uid, GID: uint32(os.Getegid()), Home: "/", Shell: "/bin/sh"}, nil
}
