// SIGHUP: re-read main.cf and master.cf, start new services, stop removed ones, and replace the other daemons gracefully.

package supervisor

import (
	"syscall"

	"github.com/postern/postern/pkg/mastercf"
)

// reload applies a changed configuration as Postfix's master does.
// inet_interfaces and inet_protocols keep their start-up values (with
// Postfix's warnings). A configuration that cannot be read is reported
// and the running one kept.
func (s *Supervisor) reload() {
	cfg, entries, err := loadConfig(s.settings.ConfigDir)
	if err != nil {
		s.log.Error("%v; configuration not reloaded", err)
		return
	}
	next, err := FromConfig(cfg)
	if err != nil {
		s.log.Error("%v; configuration not reloaded", err)
		return
	}
	// After `postfix logrotate` the reload line belongs in the new file;
	// postlogd opens it when it restarts.
	reopenErr := s.log.Reopen()
	s.log.Info("reload -- version %s, configuration %s", next.MailVersion, next.ConfigDir)
	if reopenErr != nil {
		s.log.Warning("reopen %s: %v", s.settings.MaillogFile, reopenErr)
	}
	s.keepInetSettings(&next, entries)
	// Settings master reads only at start-up stay as they were.
	next.QueueDir, next.MailOwner, next.SetgidGroup = s.settings.QueueDir, s.settings.MailOwner, s.settings.SetgidGroup
	s.settings = next

	wanted := map[string]*mastercf.Entry{}
	for _, e := range entries {
		wanted[e.Key()] = e
	}
	for key, svc := range s.services {
		if _, ok := wanted[key]; !ok {
			s.removeService(svc)
			delete(s.services, key)
		}
	}
	for _, e := range entries {
		key := e.Key()
		old, existed := s.services[key]
		if existed && old.skipNote != "" && old.entry.Command == e.Command && skipReason(e, s.settings.DaemonDir) != "" {
			old.entry = e // still not run; reported once already
			continue
		}
		if existed && s.sameListeners(old, e) {
			s.renewService(old, e)
			continue
		}
		if existed {
			s.removeService(old)
			delete(s.services, key)
		}
		svc, err := s.addService(e)
		if err != nil {
			s.log.Warning("service %s: %v", e.Service, err)
			continue
		}
		s.services[key] = svc
		s.startService(svc)
	}
}

// keepInetSettings logs Postfix's warnings when inet_protocols or
// inet_interfaces changed and puts the start-up values back into next.
func (s *Supervisor) keepInetSettings(next *Settings, entries []*mastercf.Entry) {
	if next.InetProtocols != s.settings.InetProtocols {
		s.log.Warning("ignoring inet_protocols parameter value change")
		s.log.Warning("old value: %q, new value: %q", s.settings.InetProtocols, next.InetProtocols)
		s.log.Warning("to change inet_protocols, stop and start Postfix")
		next.InetProtocols = s.settings.InetProtocols
	}
	if next.InetInterfaces != s.settings.InetInterfaces {
		for _, e := range entries {
			if e.Type == mastercf.TypeInet {
				s.log.Warning("service %s: ignoring inet_interfaces change", e.Service)
			}
		}
		s.log.Warning("to change inet_interfaces, stop and start Postfix")
		next.InetInterfaces = s.settings.InetInterfaces
	}
}

// sameListeners reports whether e, as now configured, listens exactly
// where svc's listeners are, so that they can be kept.
func (s *Supervisor) sameListeners(svc *service, e *mastercf.Entry) bool {
	if svc.skipNote != "" || skipReason(e, s.settings.DaemonDir) != "" {
		return false
	}
	eps, err := serviceEndpoints(e, s.settings)
	if err != nil || len(eps) != len(svc.instances) {
		return false
	}
	for i, ep := range eps {
		if svc.instances[i].ep != ep {
			return false
		}
	}
	return true
}

// renewService gives svc its new entry and replaces its daemons: the old
// ones get SIGHUP (finish their sessions, then exit) and their successors
// take the same listeners at once or on demand, except for a service
// limited to one process (qmgr, pickup), whose new daemon starts when the
// old one has exited.
func (s *Supervisor) renewService(svc *service, e *mastercf.Entry) {
	s.stopWakeup(svc)
	svc.entry = e
	for _, inst := range svc.instances {
		if c := inst.current; c != nil {
			s.retire(c)
		} else {
			s.needDaemon(inst)
		}
	}
	s.startWakeup(svc)
}

// removeService stops a service that left master.cf: its daemons get
// SIGTERM and its listeners are closed.
func (s *Supervisor) removeService(svc *service) {
	for _, inst := range svc.instances {
		if c := inst.current; c != nil {
			c.process.Signal(syscall.SIGTERM)
		}
	}
	s.closeService(svc)
}
