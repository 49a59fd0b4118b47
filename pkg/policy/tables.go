// Opening the tables named by smtpd parameters: "proxy:" is stripped (the
// table is opened directly), unix:passwd.byname is the system password
// file, and a table that cannot be opened is replaced by one whose every
// lookup fails, as Postfix's surrogate tables do, so that smtpd answers
// "451 4.3.0 ... Temporary lookup failure" instead of not starting.

package policy

import (
	"errors"
	"fmt"
	"os/user"
	"strings"

	"github.com/postern/postern/pkg/maps"
)

// PasswdSpec is the table of system accounts in local_recipient_maps.
const PasswdSpec = "unix:passwd.byname"

// OpenTable opens a table spec, handling "proxy:" and unix:passwd.byname.
func OpenTable(spec string) (maps.Table, error) {
	spec = strings.TrimPrefix(spec, "proxy:")
	if spec == PasswdSpec {
		return passwdTable{}, nil
	}
	return maps.Open(spec, maps.Options{})
}

// passwdTable looks up system account names.
type passwdTable struct{}

// Lookup finds an account by name; the value is its home directory.
func (passwdTable) Lookup(key string) (string, bool, error) {
	u, err := user.Lookup(strings.ToLower(key))
	if err != nil {
		var unknown user.UnknownUserError
		if errors.As(err, &unknown) {
			return "", false, nil
		}
		return "", false, fmt.Errorf("%s: lookup %s: %w", PasswdSpec, key, err)
	}
	return u.HomeDir, true, nil
}

func (passwdTable) Spec() string { return PasswdSpec }
func (passwdTable) Close() error { return nil }

// failedTable stands in for a table that could not be opened.
type failedTable struct {
	spec string
	err  error
}

func (t failedTable) Lookup(string) (string, bool, error) {
	return "", false, fmt.Errorf("%s is unavailable. %w", t.spec, t.err)
}
func (t failedTable) Spec() string { return t.spec }
func (t failedTable) Close() error { return nil }

// tableOpener opens tables once per spec and substitutes failedTable for
// the ones that cannot be opened, with a warning.
type tableOpener struct {
	open   func(string) (maps.Table, error)
	warn   func(string)
	opened map[string]maps.Table
}

func (o *tableOpener) get(spec string) maps.Table {
	if t, ok := o.opened[spec]; ok {
		return t
	}
	t, err := o.open(spec)
	if err != nil {
		o.warn(fmt.Sprintf("%s is unavailable. %v", spec, err))
		t = failedTable{spec: spec, err: err}
	}
	o.opened[spec] = t
	return t
}

// closeAll closes every opened table.
func (o *tableOpener) closeAll() error {
	var first error
	for _, t := range o.opened {
		if err := t.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
