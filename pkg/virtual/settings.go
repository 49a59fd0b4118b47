// The virtual(8) settings from main.cf: mailbox tables, base directory, uid/gid tables, limits and locks.
package virtual

import (
	"errors"
	"fmt"
	"strings"

	"github.com/postern/postern/pkg/config"
	"github.com/postern/postern/pkg/mailbox"
	"github.com/postern/postern/pkg/maps"
)

// Settings are the main.cf parameters virtual(8) uses.
type Settings struct {
	MailboxBase        string       // virtual_mailbox_base, absolute
	MailboxMaps        []maps.Table // virtual_mailbox_maps
	UIDMaps            []maps.Table // virtual_uid_maps
	GIDMaps            []maps.Table // virtual_gid_maps
	MinimumUID         int          // virtual_minimum_uid
	MailboxLimit       int64        // virtual_mailbox_limit; 0 = none
	Locks              mailbox.Locks
	RecipientDelimiter string // recipient_delimiter
}

// SettingsFromConfig reads the settings and opens the tables. Close the
// returned settings to release the tables.
func SettingsFromConfig(cfg *config.Config) (*Settings, error) {
	s := &Settings{}
	fail := func(err error) (*Settings, error) {
		s.Close()
		return nil, err
	}
	base, err := cfg.Get("virtual_mailbox_base")
	if err != nil {
		return fail(err)
	}
	if !strings.HasPrefix(base, "/") {
		return fail(fmt.Errorf("do not specify relative pathname: virtual_mailbox_base = %s", base))
	}
	s.MailboxBase = base
	if s.MinimumUID, err = cfg.Int("virtual_minimum_uid"); err != nil {
		return fail(err)
	}
	if s.MinimumUID <= 0 {
		return fail(fmt.Errorf("invalid virtual_minimum_uid parameter value %d < 1", s.MinimumUID))
	}
	if s.MailboxLimit, err = cfg.Size("virtual_mailbox_limit"); err != nil {
		return fail(err)
	}
	lockSpec, err := cfg.Get("virtual_mailbox_lock")
	if err != nil {
		return fail(err)
	}
	if s.Locks, err = mailbox.ParseLocks("virtual_mailbox_lock", lockSpec); err != nil {
		return fail(err)
	}
	if s.RecipientDelimiter, err = cfg.Get("recipient_delimiter"); err != nil {
		return fail(err)
	}
	for _, p := range []struct {
		name string
		dst  *[]maps.Table
	}{
		{"virtual_mailbox_maps", &s.MailboxMaps}, {"virtual_uid_maps", &s.UIDMaps}, {"virtual_gid_maps", &s.GIDMaps},
	} {
		specs, err := cfg.List(p.name)
		if err != nil {
			return fail(err)
		}
		for _, spec := range specs {
			t, err := maps.Open(spec, maps.Options{})
			if err != nil {
				return fail(fmt.Errorf("%s: %w", p.name, err))
			}
			*p.dst = append(*p.dst, t)
		}
	}
	return s, nil
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
