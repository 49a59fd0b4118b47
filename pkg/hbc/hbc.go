// Package hbc holds what header_checks, mime_header_checks,
// nested_header_checks and body_checks have in common wherever they are
// applied: the lookup tables of one parameter and the parsing of the
// action a table returns (REJECT text, PREPEND text, FILTER
// transport:nexthop, ...).
package hbc

import (
	"fmt"
	"strings"

	"github.com/postern/postern/pkg/config"
	"github.com/postern/postern/pkg/dsn"
	"github.com/postern/postern/pkg/maps"
)

// Checks are the tables of one *_checks parameter, searched in order.
type Checks struct {
	// Name is the parameter, as named in warnings ("header_checks").
	Name   string
	Tables []maps.Table
}

// Find returns the action of the first table that has key.
func (c *Checks) Find(key string) (action string, found bool, err error) {
	if c == nil {
		return "", false, nil
	}
	for _, t := range c.Tables {
		v, ok, err := t.Lookup(key)
		if err != nil {
			return "", false, fmt.Errorf("%s: %w", t.Spec(), err)
		}
		if ok {
			return v, true, nil
		}
	}
	return "", false, nil
}

// Empty reports whether there is nothing to check.
func (c *Checks) Empty() bool { return c == nil || len(c.Tables) == 0 }

// Opener opens the tables of *_checks parameters, sharing a table among
// parameters that name the same one (mime_header_checks and
// nested_header_checks default to $header_checks).
type Opener struct {
	cfg    *config.Config
	opened map[string]maps.Table
}

// NewOpener returns an opener for the parameters of cfg.
func NewOpener(cfg *config.Config) *Opener {
	return &Opener{cfg: cfg, opened: map[string]maps.Table{}}
}

// Open returns the checks of parameter name; nil when it is empty.
func (o *Opener) Open(name string) (*Checks, error) {
	specs, err := o.cfg.List(name)
	if err != nil {
		return nil, err
	}
	if len(specs) == 0 {
		return nil, nil
	}
	c := &Checks{Name: name}
	for _, spec := range specs {
		t, ok := o.opened[spec]
		if !ok {
			t, err = maps.Open(spec, maps.Options{})
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			o.opened[spec] = t
		}
		c.Tables = append(c.Tables, t)
	}
	return c, nil
}

// Close closes every table the opener opened.
func (o *Opener) Close() error {
	var first error
	for _, t := range o.opened {
		if err := t.Close(); err != nil && first == nil {
			first = err
		}
	}
	o.opened = map[string]maps.Table{}
	return first
}

// Action is a table's answer split into its command and optional text:
// "REJECT go away" is {REJECT, "go away"}.
type Action struct {
	Command string // upper case
	Text    string
}

// ParseAction splits a table value into command and text.
func ParseAction(value string) Action {
	cmd, text, _ := strings.Cut(value, " ")
	if i := strings.IndexAny(value, " \t"); i >= 0 {
		cmd, text = value[:i], value[i:]
	}
	return Action{Command: strings.ToUpper(cmd), Text: strings.TrimLeft(text, " \t")}
}

// PrependDSN returns text with the enhanced status code def in front,
// unless text starts with one of its own ("4.7.0 try later").
func PrependDSN(def, text string) string {
	if code, _, ok := strings.Cut(text, " "); ok && dsn.Valid(code) {
		return text
	}
	if dsn.Valid(text) {
		return text
	}
	return def + " " + text
}
