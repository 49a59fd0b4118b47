// The syslog_name of another master.cf service, for a daemon that logs
// the lines of a program Postern runs inside it (qmgr for bounce, error
// and discard).

package daemon

import (
	"path/filepath"

	"github.com/postern/postern/pkg/config"
	"github.com/postern/postern/pkg/mastercf"
)

// ServiceSyslogName is the syslog_name the unix service named service
// in cfg's master.cf runs with: main.cf's, or the entry's -o syslog_name
// with $service_name expanded, as Postfix's daemon of that service would
// log. When main.cf or master.cf cannot be read, or the service is not
// in master.cf, it is main.cf's value, else "postfix".
func ServiceSyslogName(cfg *config.Config, service string) string {
	dir, err := cfg.Get("config_directory")
	if err != nil {
		return "postfix"
	}
	fresh, err := config.Load(dir)
	if err != nil {
		return "postfix"
	}
	fresh.Set("service_name", service)
	if file, err := mastercf.ParseFileLenient(filepath.Join(dir, "master.cf")); err == nil {
		for _, e := range file.Entries {
			if e.Service != service || e.Type != mastercf.TypeUnix {
				continue
			}
			for _, o := range e.Options {
				_ = fresh.Override(o.Name + "=" + o.Value)
			}
			break
		}
	}
	name, err := fresh.Get("syslog_name")
	if err != nil || name == "" {
		return "postfix"
	}
	return name
}
