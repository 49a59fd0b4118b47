// The virtual(8) settings from main.cf: mailbox tables, base directory, uid/gid tables, limits and locks.

package virtual

import (
	"errors"
	"fmt"
	"strings"

	"github.com/postern/postern/pkg/addr"
	"github.com/postern/postern/pkg/config"
	"github.com/postern/postern/pkg/mailbox"
	"github.com/postern/postern/pkg/maps"
)

// Settings are the main.cf parameters virtual(8) uses.
type Settings struct {
	MailboxBase  string       `param:"virtual_mailbox_base"` // absolute
	MailboxMaps  []maps.Table // virtual_mailbox_maps
	UIDMaps      []maps.Table // virtual_uid_maps
	GIDMaps      []maps.Table // virtual_gid_maps
	MinimumUID   int          `param:"virtual_minimum_uid"`
	MailboxLimit int64        `param:"virtual_mailbox_limit"` // 0 = none
	// StrictMailboxOwnership is strict_mailbox_ownership: an mbox the
	// recipient's uid does not own is not written (4.2.0).
	StrictMailboxOwnership bool `param:"strict_mailbox_ownership"`
	Locks                  mailbox.Locks
	// Extensions are recipient_delimiter and the local parts it does
	// not split.
	Extensions addr.Extensions
}

// tableParams are the parameters FromConfig turns into locks and tables.
type tableParams struct {
	Lock        string   `param:"virtual_mailbox_lock"`
	MailboxMaps []string `param:"virtual_mailbox_maps"`
	UIDMaps     []string `param:"virtual_uid_maps"`
	GIDMaps     []string `param:"virtual_gid_maps"`
}

// FromConfig reads the settings and opens the tables. Close the returned
// settings to release the tables.
func FromConfig(cfg *config.Config) (*Settings, error) {
	s := &Settings{}
	var p tableParams
	if err := cfg.Fill(s); err != nil {
		return nil, err
	}
	if !strings.HasPrefix(s.MailboxBase, "/") {
		return nil, fmt.Errorf("do not specify relative pathname: virtual_mailbox_base = %s", s.MailboxBase)
	}
	if err := cfg.Fill(&p); err != nil {
		return nil, err
	}
	var err error
	if s.Locks, err = mailbox.ParseLocks("virtual_mailbox_lock", p.Lock); err != nil {
		return nil, err
	}
	for _, t := range []struct {
		name  string
		specs []string
		dst   *[]maps.Table
	}{
		{"virtual_mailbox_maps", p.MailboxMaps, &s.MailboxMaps},
		{"virtual_uid_maps", p.UIDMaps, &s.UIDMaps},
		{"virtual_gid_maps", p.GIDMaps, &s.GIDMaps},
	} {
		for _, spec := range t.specs {
			// Paranoid, as in Postfix: no $1 from an address
			// reaches a mailbox path or an owner.
			table, err := maps.Open(spec, maps.Options{NoRegexpSubstitution: true})
			if err != nil {
				s.Close()
				return nil, fmt.Errorf("%s: %w", t.name, err)
			}
			*t.dst = append(*t.dst, table)
		}
	}
	return s, nil
}

// Warnings are the open-time warnings of the tables (rules skipped, such
// as a regexp substitution), for the daemon to log.
func (s *Settings) Warnings() []string {
	var out []string
	for _, tables := range [][]maps.Table{s.MailboxMaps, s.UIDMaps, s.GIDMaps} {
		for _, t := range tables {
			out = append(out, maps.WarningsOf(t)...)
		}
	}
	return out
}

// Close closes the tables.
func (s *Settings) Close() error {
	var errs []error
	for _, tables := range [][]maps.Table{s.MailboxMaps, s.UIDMaps, s.GIDMaps} {
		for _, t := range tables {
			errs = append(errs, t.Close())
		}
	}
	return errors.Join(errs...)
}
