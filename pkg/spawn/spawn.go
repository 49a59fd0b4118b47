// Package spawn is spawn(8), Postfix's inetd: for each connection to its
// service it runs the command of the service's argv= as the user of
// user=, with the connection as the command's standard input, output and
// error, kills it with its process group at $service_time_limit, and logs
// an abnormal end as Postfix does. The classic use is a policy server that
// speaks on stdin and stdout (policyd-spf):
//
//	policy  unix  -  n  n  -  0  spawn  user=nobody argv=/usr/bin/policyd-spf
package spawn

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/user"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/postern/postern/pkg/command"
	"github.com/postern/postern/pkg/config"
	"github.com/postern/postern/pkg/maillog"
)

// Server runs the service's command for each connection.
type Server struct {
	Argv     []string
	UID, GID int
	// TimeLimit is $service_time_limit ($command_time_limit by default).
	TimeLimit time.Duration
	// Env is the command's environment (export_environment).
	Env []string
	Log *maillog.Logger
	// SwitchUser runs the command as UID and GID; it needs root. Without
	// it the command runs as this process's user.
	SwitchUser bool
}

// Owner is the mail system's account, which user= must not name.
type Owner struct{ UID, GID int }

// ParseAttrs reads the words after the daemon options in master.cf:
// user=name[:group] and argv=command... (the last). Errors are Postfix's
// fatal start-up messages.
func ParseAttrs(words []string, owner *Owner) (s *Server, err error) {
	s = &Server{}
	hasUser := false
	for i, w := range words {
		name, value, _ := strings.Cut(w, "=")
		switch strings.ToLower(name) + "=" {
		case "user=":
			if s.UID, s.GID, err = lookupUser(value); err != nil {
				return nil, err
			}
			hasUser = true
			continue
		case "argv=":
			s.Argv = append([]string{value}, words[i+1:]...)
		default:
			return nil, fmt.Errorf("unknown attribute name: %s", w)
		}
		break
	}
	switch {
	case !hasUser:
		return nil, fmt.Errorf("missing user= attribute")
	case s.Argv == nil:
		return nil, fmt.Errorf("missing argv= attribute")
	case s.UID == 0:
		return nil, fmt.Errorf("request to deliver as root")
	case owner != nil && s.UID == owner.UID:
		return nil, fmt.Errorf("request to deliver as mail system owner")
	case s.GID == 0:
		return nil, fmt.Errorf("request to use privileged group id %d", s.GID)
	case owner != nil && s.GID == owner.GID:
		return nil, fmt.Errorf("request to use mail system owner group id %d", s.GID)
	}
	return s, nil
}

// lookupUser resolves name[:group] to a user ID and a group ID: the
// group's when one is named, else the user's login group.
func lookupUser(value string) (uid, gid int, err error) {
	name, group, _ := strings.Cut(value, ":")
	u, err := user.Lookup(name)
	if err != nil {
		return 0, 0, fmt.Errorf("unknown user name: %s", name)
	}
	uid, _ = strconv.Atoi(u.Uid)
	gid, _ = strconv.Atoi(u.Gid)
	if group != "" {
		g, err := user.LookupGroup(group)
		if err != nil {
			return 0, 0, fmt.Errorf("unknown group name: %s", group)
		}
		gid, _ = strconv.Atoi(g.Gid)
	}
	return uid, gid, nil
}

// FromConfig builds the server of service from main.cf and the service's
// master.cf attributes (words). The caller sets Log and SwitchUser.
func FromConfig(cfg *config.Config, service string, words []string) (*Server, error) {
	var p struct {
		TimeLimit time.Duration `param:"_time_limit"` // $command_time_limit by default
		Exports   []string      `param:"export_environment"`
		MailOwner string        `param:"mail_owner"`
	}
	if err := cfg.FillTransport(service, &p); err != nil {
		return nil, err
	}
	var owner *Owner
	if u, err := user.Lookup(p.MailOwner); err == nil {
		owner = &Owner{}
		owner.UID, _ = strconv.Atoi(u.Uid)
		owner.GID, _ = strconv.Atoi(u.Gid)
	}
	s, err := ParseAttrs(words, owner)
	if err != nil {
		return nil, err
	}
	s.TimeLimit, s.Env = p.TimeLimit, command.Environment(p.Exports)
	return s, nil
}

// filer is a connection whose descriptor can be handed to a command.
type filer interface {
	File() (*os.File, error)
}

// Serve runs the command on one connection and waits for it. The
// command gets its own copy of the connection; this process keeps none,
// so the client sees the connection close when the command ends.
func (s *Server) Serve(ctx context.Context, conn net.Conn) {
	fc, ok := conn.(filer)
	if !ok {
		s.Log.Warning("connection of type %T cannot be passed to a command", conn)
		return
	}
	f, err := fc.File()
	conn.Close()
	if err != nil {
		s.Log.Warning("duplicate connection: %v", err)
		return
	}
	defer f.Close()
	spec := command.Spec{Argv: s.Argv, Env: s.Env, Stdin: f, Stdout: f, Stderr: f, TimeLimit: s.TimeLimit}
	if s.SwitchUser {
		spec.Credential = &syscall.Credential{Uid: uint32(s.UID), Gid: uint32(s.GID), Groups: []uint32{}}
	}
	res := command.Run(ctx, spec)
	switch {
	case res.PID == 0:
		// Postfix's child logs this before it exits with status 1.
		s.Log.Warning("execvp %s: %s", s.Argv[0], errnoText(res.Err))
		return
	case res.TimedOut:
		s.Log.Warning("%s: process id %d: command time limit exceeded", s.Argv[0], res.PID)
	}
	if !res.Normal() && res.Err == nil {
		s.Log.Warning("command %s %s", s.Argv[0], res.Describe())
	}
}

// errnoText is the strerror text of err's errno, as %m prints it.
func errnoText(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		t := errno.Error()
		return strings.ToUpper(t[:1]) + t[1:]
	}
	return err.Error()
}
