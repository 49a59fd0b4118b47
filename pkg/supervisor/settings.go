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
	QueueDir       string // queue_directory
	DataDir        string // data_directory
	DaemonDir      string // daemon_directory
	MailVersion    string // mail_version
	MailOwner      string // mail_owner
	SetgidGroup    string // setgid_group
	InetInterfaces string // inet_interfaces, as written after expansion
	InetProtocols  string // inet_protocols, as written after expansion
	ThrottleTime   time.Duration
	// DefaultProcessLimit is default_process_limit, the maxproc of "-".
	DefaultProcessLimit int

	SyslogName      string
	SyslogFacility  string
	Hostname        string // myhostname
	MaillogFile     string // maillog_file
	MaillogPrefixes string // maillog_file_prefixes
}

// LoadSettings reads the parameters master needs from cfg.
func LoadSettings(cfg *config.Config) (Settings, error) {
	s := Settings{ConfigDir: cfg.Dir}
	params := []struct {
		name string
		dst  *string
	}{
		{"queue_directory", &s.QueueDir},
		{"data_directory", &s.DataDir},
		{"daemon_directory", &s.DaemonDir},
		{"mail_version", &s.MailVersion},
		{"mail_owner", &s.MailOwner},
		{"setgid_group", &s.SetgidGroup},
		{"inet_interfaces", &s.InetInterfaces},
		{"inet_protocols", &s.InetProtocols},
		{"syslog_name", &s.SyslogName},
		{"syslog_facility", &s.SyslogFacility},
		{"myhostname", &s.Hostname},
		{"maillog_file", &s.MaillogFile},
		{"maillog_file_prefixes", &s.MaillogPrefixes},
	}
	for _, p := range params {
		v, err := cfg.Get(p.name)
		if err != nil {
			return Settings{}, fmt.Errorf("parameter %s: %w", p.name, err)
		}
		*p.dst = v
	}
	var err error
	if s.ThrottleTime, err = cfg.Duration("service_throttle_time", 's'); err != nil {
		return Settings{}, err
	}
	if s.DefaultProcessLimit, err = cfg.Int("default_process_limit"); err != nil {
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
