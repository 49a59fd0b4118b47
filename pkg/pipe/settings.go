// The pipe service's settings: its master.cf attributes and the main.cf
// parameters it reads.

package pipe

import (
	"os/user"
	"path/filepath"
	"strconv"
	"time"

	"github.com/postern/postern/pkg/addr"
	"github.com/postern/postern/pkg/command"
	"github.com/postern/postern/pkg/config"
)

// FromConfig builds the agent of service from main.cf and the service's
// master.cf attributes (words). The caller sets Layout, Log and
// SwitchUser.
func FromConfig(cfg *config.Config, service string, words []string) (*Agent, error) {
	id, err := identity(cfg)
	if err != nil {
		return nil, err
	}
	attrs, err := ParseAttrs(words, id)
	if err != nil {
		return nil, err
	}
	dir, err := cfg.Get("config_directory")
	if err != nil {
		return nil, err
	}
	a := &Agent{Service: service, Attrs: attrs, MasterCF: filepath.Join(dir, "master.cf")}
	var p struct {
		TimeLimit  time.Duration `param:"_time_limit"` // $command_time_limit by default
		Extensions addr.Extensions
		Exports    []string `param:"export_environment"`
	}
	if err := cfg.FillTransport(service, &p); err != nil {
		return nil, err
	}
	a.TimeLimit, a.Extensions = p.TimeLimit, p.Extensions
	a.Env = command.Environment(p.Exports)
	return a, nil
}

// identity finds the mail system's own user and groups, which user=
// must not name.
func identity(cfg *config.Config) (Identity, error) {
	var id Identity
	owner, err := cfg.Get("mail_owner")
	if err != nil {
		return id, err
	}
	if u, err := user.Lookup(owner); err == nil {
		id.MailOwner = owner
		id.OwnerUID, _ = strconv.Atoi(u.Uid)
		id.OwnerGID, _ = strconv.Atoi(u.Gid)
	}
	group, err := cfg.Get("setgid_group")
	if err != nil {
		return id, err
	}
	if g, err := user.LookupGroup(group); err == nil {
		id.SetgidGroup = group
		id.SetgidGID, _ = strconv.Atoi(g.Gid)
	}
	return id, nil
}
