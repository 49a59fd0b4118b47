// The local(8) settings from main.cf: alias tables, forward_path, mailbox location, limits and locks.

package local

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/postern/postern/pkg/config"
	"github.com/postern/postern/pkg/mailbox"
	"github.com/postern/postern/pkg/maps"
)

// Settings are the main.cf parameters local(8) uses.
type Settings struct {
	// Config expands forward_path and luser_relay per recipient.
	Config             *config.Config
	AliasMaps          []maps.Table
	ForwardPath        string // forward_path, unexpanded
	LuserRelay         string // luser_relay, unexpanded
	MailboxCommand     string // mailbox_command, unexpanded
	HomeMailbox        string // home_mailbox
	MailSpoolDirectory string // mail_spool_directory
	MailboxSizeLimit   int64  // mailbox_size_limit; 0 = none
	Locks              mailbox.Locks
	RecipientDelimiter string
	AllowMinUser       bool
	DefaultPrivs       string   // default_privs: the user for root-owned aliases
	MyOrigin           string   // myorigin: the domain of bare names
	MyDestination      []string // mydestination: the local domains (table entries are not consulted)
	// CommandsFrom and FilesFrom are allow_mail_to_commands and
	// allow_mail_to_files: which of "alias", "forward" and "include"
	// may name commands and files.
	CommandsFrom map[string]bool
	FilesFrom    map[string]bool
	// MailboxCommandMaps is mailbox_command_maps: a per-user
	// mailbox_command.
	MailboxCommandMaps []maps.Table
	// MailboxTransport and MailboxTransportMaps (by user name) hand
	// mailbox delivery to another transport; FallbackTransport and
	// FallbackTransportMaps (by address) do so for unknown users.
	MailboxTransport      string
	MailboxTransportMaps  []maps.Table
	FallbackTransport     string
	FallbackTransportMaps []maps.Table
	// CommandExpansionFilter is command_expansion_filter: the bytes
	// allowed in command environment values (others become '_').
	CommandExpansionFilter string
	// ForwardExpansionFilter is forward_expansion_filter, for the
	// $name values in forward_path.
	ForwardExpansionFilter string
	// ExportEnvironment is export_environment: variables of local's own
	// environment passed to commands.
	ExportEnvironment []string
	// CommandTimeLimit is command_time_limit.
	CommandTimeLimit time.Duration
}

// SettingsFromConfig reads the settings and opens the alias tables. A
// table type this build lacks (nis: in Postfix's default) is skipped
// with a call to warn; a table that cannot be opened is reported to warn
// and makes lookups fail.
func SettingsFromConfig(cfg *config.Config, warn func(string)) (*Settings, error) {
	s := &Settings{Config: cfg}
	var err error
	raw := func(name string, dst *string) {
		if err == nil {
			*dst, _, err = cfg.Raw(name)
		}
	}
	get := func(name string, dst *string) {
		if err == nil {
			*dst, err = cfg.Get(name)
		}
	}
	raw("forward_path", &s.ForwardPath)
	raw("luser_relay", &s.LuserRelay)
	raw("mailbox_command", &s.MailboxCommand)
	get("home_mailbox", &s.HomeMailbox)
	get("mail_spool_directory", &s.MailSpoolDirectory)
	get("recipient_delimiter", &s.RecipientDelimiter)
	get("default_privs", &s.DefaultPrivs)
	get("myorigin", &s.MyOrigin)
	raw("command_expansion_filter", &s.CommandExpansionFilter)
	raw("forward_expansion_filter", &s.ForwardExpansionFilter)
	var lockSpec string
	get("mailbox_delivery_lock", &lockSpec)
	if err != nil {
		return nil, err
	}
	if s.Locks, err = mailbox.ParseLocks("mailbox_delivery_lock", lockSpec); err != nil {
		return nil, err
	}
	if s.MailboxSizeLimit, err = cfg.Size("mailbox_size_limit"); err != nil {
		return nil, err
	}
	messageLimit, err := cfg.Size("message_size_limit")
	if err != nil {
		return nil, err
	}
	if s.MailboxSizeLimit > 0 && s.MailboxSizeLimit < messageLimit {
		return nil, fmt.Errorf("main.cf configuration error: mailbox_size_limit is smaller than message_size_limit")
	}
	if s.AllowMinUser, err = cfg.Bool("allow_min_user"); err != nil {
		return nil, err
	}
	if s.CommandTimeLimit, err = cfg.Duration("command_time_limit", 's'); err != nil {
		return nil, err
	}
	if s.ExportEnvironment, err = cfg.List("export_environment"); err != nil {
		return nil, err
	}
	if s.MyDestination, err = cfg.List("mydestination"); err != nil {
		return nil, err
	}
	for _, p := range []struct {
		name string
		dst  *map[string]bool
	}{{"allow_mail_to_commands", &s.CommandsFrom}, {"allow_mail_to_files", &s.FilesFrom}} {
		kinds, err := cfg.List(p.name)
		if err != nil {
			return nil, err
		}
		*p.dst = map[string]bool{}
		for _, k := range kinds {
			if k != "alias" && k != "forward" && k != "include" {
				return nil, fmt.Errorf("bad %s value: %q", p.name, k)
			}
			(*p.dst)[k] = true
		}
	}
	if strings.HasPrefix(s.HomeMailbox, "/") {
		return nil, fmt.Errorf("home_mailbox: do not specify absolute pathname: %s", s.HomeMailbox)
	}
	get("mailbox_transport", &s.MailboxTransport)
	get("fallback_transport", &s.FallbackTransport)
	if err != nil {
		return nil, err
	}
	for _, p := range []struct {
		name string
		dst  *[]maps.Table
	}{{"mailbox_transport_maps", &s.MailboxTransportMaps}, {"fallback_transport_maps", &s.FallbackTransportMaps}} {
		specs, err := cfg.List(p.name)
		if err != nil {
			return nil, err
		}
		for _, spec := range specs {
			t, err := maps.Open(spec, maps.Options{})
			if err != nil {
				warn(fmt.Sprintf("%s is unavailable. %v", spec, err))
				t = unavailableTable{spec: spec, err: err}
			}
			*p.dst = append(*p.dst, t)
		}
	}
	cmdSpecs, err := cfg.List("mailbox_command_maps")
	if err != nil {
		return nil, err
	}
	for _, spec := range cmdSpecs {
		t, err := maps.Open(spec, maps.Options{})
		if err != nil {
			warn(fmt.Sprintf("%s is unavailable. %v", spec, err))
			t = unavailableTable{spec: spec, err: err}
		}
		s.MailboxCommandMaps = append(s.MailboxCommandMaps, t)
	}
	specs, err := cfg.List("alias_maps")
	if err != nil {
		return nil, err
	}
	for _, spec := range specs {
		t, err := maps.Open(spec, maps.Options{})
		if errors.Is(err, maps.ErrUnsupported) {
			warn(fmt.Sprintf("alias_maps: %v -- ignoring this table", err))
			continue
		}
		if err != nil {
			// As in Postfix, the daemon runs on and defers the
			// recipients that need the table.
			warn(fmt.Sprintf("%s is unavailable. %v", spec, err))
			t = unavailableTable{spec: spec, err: err}
		}
		s.AliasMaps = append(s.AliasMaps, t)
	}
	return s, nil
}

// Close releases the alias tables.
func (s *Settings) Close() {
	for _, list := range [][]maps.Table{s.AliasMaps, s.MailboxCommandMaps, s.MailboxTransportMaps, s.FallbackTransportMaps} {
		for _, t := range list {
			t.Close()
		}
	}
	s.AliasMaps, s.MailboxCommandMaps, s.MailboxTransportMaps, s.FallbackTransportMaps = nil, nil, nil, nil
}

// isLocalDomain reports whether domain is one this agent delivers for:
// myorigin, a literal mydestination entry, or localhost.
func (s *Settings) isLocalDomain(domain string) bool {
	domain = strings.ToLower(strings.TrimSuffix(domain, "."))
	if domain == strings.ToLower(s.MyOrigin) || domain == "localhost" {
		return true
	}
	for _, d := range s.MyDestination {
		if strings.EqualFold(d, domain) {
			return true
		}
	}
	return false
}

// unavailableTable stands for a table that could not be opened: every
// lookup fails with the error.
type unavailableTable struct {
	spec string
	err  error
}

func (t unavailableTable) Lookup(string) (string, bool, error) { return "", false, t.err }
func (t unavailableTable) Spec() string                        { return t.spec }
func (t unavailableTable) Close() error                        { return nil }
