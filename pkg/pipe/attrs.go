// The pipe service's master.cf attributes: flags=, user=, size=, eol=,
// null_sender=, directory= and argv=, checked as Postfix's pipe(8) checks
// them at start-up.

package pipe

import (
	"fmt"
	"os/user"
	"strconv"
	"strings"
)

// Flags are the letters of flags=.
type Flags struct {
	Delivered  bool // D: prepend Delivered-To:
	ReturnPath bool // R: prepend Return-Path:
	FromLine   bool // F: prepend the mbox From_ line
	OrigRcpt   bool // O: prepend X-Original-To:
	FoldHost   bool // h: lower-case the domain of $recipient, $original_recipient and $nexthop
	FoldUser   bool // u: lower-case the local part of $recipient and $original_recipient
	QuoteLocal bool // q: quote the local parts of $sender, $recipient and $original_recipient
	Final      bool // X: final delivery ("delivered" rather than "relayed")
	DotStuff   bool // .: prepend "." to lines starting with "."
	QuoteFrom  bool // >: prepend ">" to lines starting with "From "
	BlankLine  bool // B: append a blank line
}

// Attrs are the parsed command-line attributes of one pipe service.
type Attrs struct {
	Flags      Flags
	UID, GID   int
	UserName   string
	SizeLimit  int64 // size=, 0 = none
	EOL        string
	NullSender string
	Directory  string
	Argv       []string
}

// Identity is what ParseAttrs needs to know about the mail system's own
// account, which user= must not name.
type Identity struct {
	MailOwner string
	OwnerUID  int
	OwnerGID  int
	// SetgidGroup is setgid_group (postdrop) and its gid.
	SetgidGroup string
	SetgidGID   int
}

// ParseAttrs parses the words after the daemon options in master.cf.
// Errors are Postfix's fatal start-up messages.
func ParseAttrs(words []string, id Identity) (*Attrs, error) {
	a := &Attrs{EOL: "\n", NullSender: "MAILER-DAEMON", UID: -1}
	for i := 0; i < len(words); i++ {
		name, value, ok := strings.Cut(words[i], "=")
		if !ok {
			return nil, fmt.Errorf("unknown attribute name: %s", words[i])
		}
		switch name {
		case "flags":
			for _, ch := range value {
				if err := a.Flags.set(ch); err != nil {
					return nil, err
				}
			}
		case "user":
			if err := a.setUser(value); err != nil {
				return nil, err
			}
		case "size":
			n, err := strconv.ParseInt(value, 10, 64)
			if err != nil || n <= 0 {
				return nil, fmt.Errorf("bad size= value: %s", value)
			}
			a.SizeLimit = n
		case "eol":
			a.EOL = unescape(value)
		case "null_sender":
			a.NullSender = value
		case "directory":
			a.Directory = value
		case "argv":
			a.Argv = append([]string{value}, words[i+1:]...)
			i = len(words)
		default:
			return nil, fmt.Errorf("unknown attribute name: %s", words[i])
		}
	}
	switch {
	case a.UID < 0:
		return nil, fmt.Errorf("missing user= command-line attribute")
	case len(a.Argv) == 0 || a.Argv[0] == "":
		return nil, fmt.Errorf("missing argv= command-line attribute")
	case a.UID == 0:
		return nil, fmt.Errorf("user= command-line attribute specifies root privileges")
	case id.MailOwner != "" && a.UID == id.OwnerUID:
		return nil, fmt.Errorf("user= command-line attribute specifies mail system owner %s", id.MailOwner)
	case a.GID == 0:
		return nil, fmt.Errorf("user= command-line attribute specifies privileged group id 0")
	case id.MailOwner != "" && a.GID == id.OwnerGID:
		return nil, fmt.Errorf("user= command-line attribute specifies mail system owner %s group id %d", id.MailOwner, a.GID)
	case id.SetgidGroup != "" && a.GID == id.SetgidGID:
		return nil, fmt.Errorf("user= command-line attribute specifies mail system %s group id %d", id.SetgidGroup, a.GID)
	}
	return a, nil
}

func (f *Flags) set(ch rune) error {
	switch ch {
	case 'D':
		f.Delivered = true
	case 'R':
		f.ReturnPath = true
	case 'F':
		f.FromLine = true
	case 'O':
		f.OrigRcpt = true
	case 'h':
		f.FoldHost = true
	case 'u':
		f.FoldUser = true
	case 'q':
		f.QuoteLocal = true
	case 'X':
		f.Final = true
	case '.':
		f.DotStuff = true
	case '>':
		f.QuoteFrom = true
	case 'B':
		f.BlankLine = true
	default:
		return fmt.Errorf("unknown flag: %c (ignored)", ch)
	}
	return nil
}

// setUser parses user=name or user=name:group.
func (a *Attrs) setUser(value string) error {
	name, group, hasGroup := strings.Cut(value, ":")
	u, err := user.Lookup(name)
	if err != nil {
		return fmt.Errorf("unknown username: %s", name)
	}
	a.UserName = name
	a.UID, _ = strconv.Atoi(u.Uid)
	a.GID, _ = strconv.Atoi(u.Gid)
	if hasGroup {
		g, err := user.LookupGroup(group)
		if err != nil {
			return fmt.Errorf("unknown group: %s", group)
		}
		a.GID, _ = strconv.Atoi(g.Gid)
	}
	return nil
}

// unescape turns the C escapes of an eol= value ("\r\n") into bytes.
func unescape(s string) string {
	r := strings.NewReplacer(`\r`, "\r", `\n`, "\n", `\t`, "\t", `\\`, `\`)
	return r.Replace(s)
}
