// The main.cf parameters master reads, resolved once per (re)load.

package supervisor

import (
	"fmt"
	"os"
	"os/user"
	"strconv"
	"time"

	"github.com/postern/postern/pkg/config"
)

// Settings are the main.cf values that master and `postfix check` use.
type Settings struct {
	ConfigDir      string
	QueueDir       string        `param:"queue_directory"`
	DataDir        string        `param:"data_directory"`
	DaemonDir      string        `param:"daemon_directory"`
	MailVersion    string        `param:"mail_version"`
	MailOwner      string        `param:"mail_owner"`
	SetgidGroup    string        `param:"setgid_group"`
	InetInterfaces string        `param:"inet_interfaces"` // as written after expansion
	InetProtocols  string        `param:"inet_protocols"`  // as written after expansion
	ThrottleTime   time.Duration `param:"service_throttle_time"`
	// DefaultProcessLimit is the maxproc of "-".
	DefaultProcessLimit int `param:"default_process_limit"`

	SyslogName      string `param:"syslog_name"`
	SyslogFacility  string `param:"syslog_facility"`
	Hostname        string `param:"myhostname"`
	MaillogFile     string `param:"maillog_file"`
	MaillogPrefixes string `param:"maillog_file_prefixes"`
}

// FromConfig reads the parameters master needs from cfg.
func FromConfig(cfg *config.Config) (Settings, error) {
	s := Settings{ConfigDir: cfg.Dir}
	if err := cfg.Fill(&s); err != nil {
		return Settings{}, err
	}
	if s.QueueDir == "" || s.QueueDir[0] != '/' {
		return Settings{}, fmt.Errorf("queue_directory must be an absolute path name: %q", s.QueueDir)
	}
	return s, nil
}

// Owner is the user and group that own what master creates: mail_owner
// when running as root, else the user running master.
type Owner struct {
	UID, GID    int
	SetgidGID   int  // setgid_group's gid, or GID when not root
	Privileged  bool // master runs as root and chowns what it creates
	OwnerName   string
	SetgidGroup string
}

// ResolveOwner looks up mail_owner and setgid_group when running as root.
func (s Settings) ResolveOwner() (Owner, error) {
	if os.Geteuid() != 0 {
		uid, gid := os.Getuid(), os.Getgid()
		name := strconv.Itoa(uid)
		if u, err := user.LookupId(name); err == nil {
			name = u.Username
		}
		return Owner{UID: uid, GID: gid, SetgidGID: gid, OwnerName: name, SetgidGroup: strconv.Itoa(gid)}, nil
	}
	u, err := user.Lookup(s.MailOwner)
	if err != nil {
		return Owner{}, fmt.Errorf("file %s/main.cf: parameter mail_owner: unknown user name value: %s", s.ConfigDir, s.MailOwner)
	}
	g, err := user.LookupGroup(s.SetgidGroup)
	if err != nil {
		return Owner{}, fmt.Errorf("file %s/main.cf: parameter setgid_group: unknown group name: %s", s.ConfigDir, s.SetgidGroup)
	}
	o := Owner{Privileged: true, OwnerName: s.MailOwner, SetgidGroup: s.SetgidGroup}
	if o.UID, err = strconv.Atoi(u.Uid); err != nil {
		return Owner{}, fmt.Errorf("user %s: uid %q: %w", s.MailOwner, u.Uid, err)
	}
	if o.GID, err = strconv.Atoi(u.Gid); err != nil {
		return Owner{}, fmt.Errorf("user %s: gid %q: %w", s.MailOwner, u.Gid, err)
	}
	if o.SetgidGID, err = strconv.Atoi(g.Gid); err != nil {
		return Owner{}, fmt.Errorf("group %s: gid %q: %w", s.SetgidGroup, g.Gid, err)
	}
	if o.UID == 0 {
		return Owner{}, fmt.Errorf("file %s/main.cf: parameter mail_owner: user %s has same user ID as root", s.ConfigDir, s.MailOwner)
	}
	return o, nil
}
