// The notice settings every sender of notices shares: templates read from
// bounce_template_file and expanded once with main.cf, and the encoding.

package dsn

import (
	"errors"
	"io"
	"time"

	"github.com/postern/postern/pkg/config"
)

// Settings are the main.cf parameters of notices.
type Settings struct {
	TemplateFile string        `param:"bounce_template_file"`
	DelayWarning time.Duration `param:"delay_warning_time"`
	MaxLifetime  time.Duration `param:"maximal_queue_lifetime"`
	SMTPUTF8     bool          `param:"smtputf8_enable"`
}

// Notices are the templates ready for use: headers and expanded texts.
type Notices struct {
	Templates *Templates
	// Texts holds each class's expanded message text.
	Texts map[string]string
	// EightBit is smtputf8_enable: notices are labelled 8bit and utf-8.
	EightBit bool
}

// LoadNotices reads bounce_template_file (the built-in templates when it
// is empty) and expands the texts with cfg. Warnings, such as Postfix's
// for a template it ignores or a time that rounds to zero, go to warn.
func LoadNotices(cfg *config.Config, warn func(string)) (*Notices, error) {
	var s Settings
	if err := cfg.Fill(&s); err != nil {
		return nil, err
	}
	ts, err := s.templates(warn)
	if err != nil {
		return nil, err
	}
	n := &Notices{Templates: ts, Texts: map[string]string{}, EightBit: s.SMTPUTF8}
	for _, class := range classes {
		t := *ts.byClass(class)
		text, err := ExpandTemplate(cfg, t, s.DelayWarning, s.MaxLifetime, warn)
		if err != nil {
			return nil, err
		}
		n.Texts[class] = text
	}
	return n, nil
}

// LoadTemplatesFromConfig returns the templates bounce_template_file
// names, or the built-in ones; path, when not empty, is used instead
// (postconf -b FILE).
func LoadTemplatesFromConfig(cfg *config.Config, path string, warn func(string)) (*Templates, error) {
	var s Settings
	if err := cfg.Fill(&s); err != nil {
		return nil, err
	}
	if path != "" {
		s.TemplateFile = path
	}
	return s.templates(warn)
}

func (s *Settings) templates(warn func(string)) (*Templates, error) {
	if s.TemplateFile == "" {
		return DefaultTemplates(), nil
	}
	return LoadTemplates(s.TemplateFile, warn)
}

// ExpandTemplate expands a template's text with main.cf's parameters and
// the time variables ($delay_warning_time_hours ...). As in Postfix, a
// reference to an undefined parameter is an error.
func ExpandTemplate(cfg *config.Config, t *Template, delayWarning, maxLifetime time.Duration, warn func(string)) (string, error) {
	vars := TimeVars(t, delayWarning, maxLifetime, warn)
	return t.Expand(func(line string) (string, error) {
		undefined := false
		x, err := cfg.ExpandReporting(line, vars, func(string) { undefined = true })
		if err == nil && undefined {
			err = errUndefined
		}
		return x, err
	})
}

// errUndefined reports a $name that is neither a parameter nor a
// template variable.
var errUndefined = errors.New("undefined $name")

// WriteExpanded prints the expanded texts of the templates as postconf
// -b does, with cfg's values.
func WriteExpanded(w io.Writer, cfg *config.Config, ts *Templates, warn func(string)) error {
	var s Settings
	if err := cfg.Fill(&s); err != nil {
		return err
	}
	return ts.WriteExpanded(w, func(t *Template) (string, error) {
		return ExpandTemplate(cfg, t, s.DelayWarning, s.MaxLifetime, warn)
	})
}

// Report returns a report of class for the message, filled with the
// template's headers and text.
func (n *Notices) Report(class string) *Report {
	return &Report{Template: *n.Templates.byClass(class), Text: n.Texts[class], EightBit: n.EightBit}
}
