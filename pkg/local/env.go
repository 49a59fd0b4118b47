// The environment of command deliveries: Postfix's variables, each value censored by command_expansion_filter, and nothing expanded by local itself.

package local

import (
	"os"
	"strings"

	"github.com/postern/postern/pkg/queue"
)

// censor replaces every byte of value that is not in allowed with '_',
// as Postfix does with command_expansion_filter: whatever a remote
// client put in an address reaches a shell only as inert text.
func censor(value, allowed string) string {
	b := []byte(value)
	for i, c := range b {
		if strings.IndexByte(allowed, c) < 0 {
			b[i] = '_'
		}
	}
	return string(b)
}

// commandEnv is the environment of a command delivered to for the local
// address addr as u: Postfix's HOME, LOGNAME, USER, SENDER, RECIPIENT,
// LOCAL, SHELL, DOMAIN, EXTENSION, ORIGINAL_RECIPIENT, ENVID and the
// CLIENT_* and SASL_* attributes of the message, each censored, then
// export_environment from local's own environment, then PATH.
func (d *delivery) commandEnv(addr string, u *User, sender string) []string {
	s := d.agent.Settings
	localPart, domain := splitAddress(addr)
	localPart = strings.ToLower(localPart)
	_, ext, _ := s.Extensions.Split(localPart)
	if strings.Contains(ext, "/") {
		ext = "" // an illegal extension, dropped as in recipient
	}
	vars := []struct{ name, value string }{
		{"HOME", u.Home}, {"LOGNAME", u.Name}, {"USER", u.Name},
		{"SENDER", sender}, {"RECIPIENT", addr}, {"LOCAL", localPart},
		{"SHELL", u.Shell}, {"DOMAIN", domain}, {"EXTENSION", ext},
		{"ORIGINAL_RECIPIENT", d.original()}, {"ENVID", d.req.DSNEnvID},
	}
	attrs := d.messageAttrs()
	for _, a := range []struct{ env, attr string }{
		{"CLIENT_HOSTNAME", queue.AttrClientName}, {"CLIENT_ADDRESS", queue.AttrClientAddr},
		{"CLIENT_HELO", queue.AttrHelo}, {"CLIENT_PROTOCOL", queue.AttrProtocol},
		{"SASL_METHOD", "sasl_method"}, {"SASL_SENDER", "sasl_sender"}, {"SASL_USERNAME", "sasl_username"},
	} {
		vars = append(vars, struct{ name, value string }{a.env, attrs[a.attr]})
	}
	env := make([]string, 0, len(vars)+len(s.ExportEnvironment)+1)
	for _, v := range vars {
		if v.value == "" && v.name != "SENDER" && v.name != "LOCAL" && v.name != "RECIPIENT" && v.name != "USER" && v.name != "LOGNAME" {
			continue
		}
		env = append(env, v.name+"="+censor(v.value, s.CommandExpansionFilter))
	}
	for _, name := range s.ExportEnvironment {
		if value, ok := os.LookupEnv(name); ok {
			env = append(env, name+"="+value)
		}
	}
	return append(env, "PATH=/usr/bin:/bin")
}

// messageAttrs reads the named attributes of the queue file (the client
// of the message) once per delivery; none when the file cannot be read.
func (d *delivery) messageAttrs() map[string]string {
	if d.attrs != nil {
		return d.attrs
	}
	d.attrs = map[string]string{}
	if d.agent.Layout == nil {
		return d.attrs
	}
	f, err := os.Open(d.agent.Layout.Path(d.req.Queue, d.req.QueueID))
	if err != nil {
		return d.attrs
	}
	defer f.Close()
	m, err := queue.ReadEnvelope(f)
	if err != nil {
		return d.attrs
	}
	for _, a := range m.Attrs {
		d.attrs[a.Name] = a.Value
	}
	return d.attrs
}
