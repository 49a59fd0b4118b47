// params.go reads the logging parameters of main.cf into Options, for
// every program that logs.

package maillog

// ReadParams fills the main.cf logging parameters of o (syslog_name,
// myhostname, maillog_file, maillog_file_prefixes, syslog_facility) from
// get, which returns a parameter's expanded value (config.Config.Get).
func (o *Options) ReadParams(get func(name string) (string, error)) error {
	for name, dst := range map[string]*string{
		"syslog_name":           &o.SyslogName,
		"myhostname":            &o.Hostname,
		"maillog_file":          &o.File,
		"maillog_file_prefixes": &o.FilePrefixes,
		"syslog_facility":       &o.SyslogFacility,
	} {
		v, err := get(name)
		if err != nil {
			return err
		}
		*dst = v
	}
	return nil
}
