// The local(8) settings from main.cf: alias tables, forward_path, mailbox location, limits and locks.

package local

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/postern/postern/pkg/addr"
	"github.com/postern/postern/pkg/config"
	"github.com/postern/postern/pkg/mailbox"
	"github.com/postern/postern/pkg/maps"
)

// Settings are the main.cf parameters local(8) uses.
type Settings struct {
	// Config expands forward_path and luser_relay per recipient.
	Config             *config.Config
	AliasMaps          []maps.Table
	ForwardPath        string `param:"forward_path,raw"`
	LuserRelay         string `param:"luser_relay,raw"`
	MailboxCommand     string `param:"mailbox_command,raw"`
	HomeMailbox        string `param:"home_mailbox"`
	MailSpoolDirectory string `param:"mail_spool_directory"`
	MailboxSizeLimit   int64  `param:"mailbox_size_limit"` // <= 0: none
	// StrictMailboxOwnership is strict_mailbox_ownership: an mbox
	// mailbox the recipient does not own is not written (4.2.0).
	StrictMailboxOwnership bool `param:"strict_mailbox_ownership"`
	Locks                  mailbox.Locks
	// Extensions are recipient_delimiter and the local parts it does
	// not split; with owner_request_special off, owner- aliases are not
	// looked for.
	Extensions   addr.Extensions
	AllowMinUser bool `param:"allow_min_user"`
	// FrozenDeliveredTo is frozen_delivered_to: Delivered-To: is the
	// recipient as local received it, not each alias or .forward
	// expansion step.
	FrozenDeliveredTo bool   `param:"frozen_delivered_to"`
	DefaultPrivs      string `param:"default_privs"` // the user for root-owned aliases
	MyOrigin          string `param:"myorigin"`      // the domain of bare names
	// MyDestination are the local domains (table entries are not
	// consulted).
	MyDestination []string `param:"mydestination"`
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
	MailboxTransport      string `param:"mailbox_transport"`
	MailboxTransportMaps  []maps.Table
	FallbackTransport     string `param:"fallback_transport"`
	FallbackTransportMaps []maps.Table
	// CommandExpansionFilter is command_expansion_filter: the bytes
	// allowed in command environment values (others become '_').
	CommandExpansionFilter string `param:"command_expansion_filter,raw"`
	// ForwardExpansionFilter is forward_expansion_filter, for the
	// $name values in forward_path.
	ForwardExpansionFilter string `param:"forward_expansion_filter,raw"`
	// ExportEnvironment is export_environment: variables of local's own
	// environment passed to commands.
	ExportEnvironment []string `param:"export_environment"`
	// CommandTimeLimit is command_time_limit.
	CommandTimeLimit time.Duration `param:"command_time_limit"`
}

// derivedParams are the parameters FromConfig turns into settings.
type derivedParams struct {
	Lock                  string   `param:"mailbox_delivery_lock"`
	MessageSizeLimit      int64    `param:"message_size_limit"`
	CommandsFrom          []string `param:"allow_mail_to_commands"`
	FilesFrom             []string `param:"allow_mail_to_files"`
	MailboxTransportMaps  []string `param:"mailbox_transport_maps"`
	FallbackTransportMaps []string `param:"fallback_transport_maps"`
	MailboxCommandMaps    []string `param:"mailbox_command_maps"`
	AliasMaps             []string `param:"alias_maps"`
}

// FromConfig reads the settings and opens the alias tables. A table type
// this build lacks (nis: in Postfix's default) is skipped with a call to
// warn; a table that cannot be opened is reported to warn and makes
// lookups fail.
func FromConfig(cfg *config.Config, warn func(string)) (*Settings, error) {
	s := &Settings{Config: cfg}
	var p derivedParams
	if err := cfg.Fill(s); err != nil {
		return nil, err
	}
	if err := cfg.Fill(&p); err != nil {
		return nil, err
	}
	var err error
	if s.Locks, err = mailbox.ParseLocks("mailbox_delivery_lock", p.Lock); err != nil {
		return nil, err
	}
	if s.MailboxSizeLimit > 0 && s.MailboxSizeLimit < p.MessageSizeLimit {
		return nil, fmt.Errorf("main.cf configuration error: mailbox_size_limit is smaller than message_size_limit")
	}
	if s.CommandsFrom, err = deliveryKinds("allow_mail_to_commands", p.CommandsFrom); err != nil {
		return nil, err
	}
	if s.FilesFrom, err = deliveryKinds("allow_mail_to_files", p.FilesFrom); err != nil {
		return nil, err
	}
	if strings.HasPrefix(s.HomeMailbox, "/") {
		return nil, fmt.Errorf("home_mailbox: do not specify absolute pathname: %s", s.HomeMailbox)
	}
	s.MailboxTransportMaps = openTables(p.MailboxTransportMaps, warn)
	s.FallbackTransportMaps = openTables(p.FallbackTransportMaps, warn)
	s.MailboxCommandMaps = openTables(p.MailboxCommandMaps, warn)
	for _, spec := range p.AliasMaps {
		t, err := maps.Open(spec, paranoid)
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
	for _, list := range [][]maps.Table{s.AliasMaps, s.MailboxCommandMaps, s.MailboxTransportMaps, s.FallbackTransportMaps} {
		for _, t := range list {
			for _, w := range maps.WarningsOf(t) {
				warn(w)
			}
		}
	}
	return s, nil
}

// paranoid is how local opens its tables, as Postfix's local does: no
// regexp or pcre substitution ($1), so that nothing of a recipient
// address reaches a command, a file name or a transport through a table.
var paranoid = maps.Options{NoRegexpSubstitution: true}

// deliveryKinds reads allow_mail_to_commands or allow_mail_to_files:
// which of "alias", "forward" and "include" are allowed.
func deliveryKinds(param string, kinds []string) (map[string]bool, error) {
	allowed := map[string]bool{}
	for _, k := range kinds {
		if k != "alias" && k != "forward" && k != "include" {
			return nil, fmt.Errorf("bad %s value: %q", param, k)
		}
		allowed[k] = true
	}
	return allowed, nil
}

// openTables opens table specs; one that cannot be opened is reported to
// warn and fails every lookup.
func openTables(specs []string, warn func(string)) []maps.Table {
	var tables []maps.Table
	for _, spec := range specs {
		t, err := maps.Open(spec, paranoid)
		if err != nil {
			warn(fmt.Sprintf("%s is unavailable. %v", spec, err))
			t = unavailableTable{spec: spec, err: err}
		}
		tables = append(tables, t)
	}
	return tables
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
