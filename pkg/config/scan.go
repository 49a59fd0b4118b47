// scan.go finds what postconf warns about: references to undefined
// parameters, expansion errors, and main.cf settings nobody uses.

package config

// Scan checks the explicit settings as postconf does before it prints
// anything: those of built-in parameters (except raw ones) are expanded in
// scan mode, visiting every conditional branch and following references;
// those of other parameters only have their own references checked.
// onUndefined is called for each reference to an undefined name. An
// expansion error in a built-in parameter is returned, as postconf fails on
// one even without -x; in another parameter it goes to onUserError and the
// scan goes on.
//
// Names that built-in defaults refer to (legacy names such as
// lmtp_per_record_deadline) count as defined, as they do for postconf.
func (c *Config) Scan(onUndefined func(name string), onUserError func(error)) error {
	legacy := c.defaultReferences()
	report := func(name string) {
		if onUndefined != nil && !legacy[name] {
			onUndefined(name)
		}
	}
	lookup := c.lookupWith(nil)
	for _, s := range c.Settings() {
		if IsRaw(s.Name) {
			continue
		}
		x := &expander{lookup: lookup, onUndefined: report, scan: true}
		if c.Known(s.Name) {
			if _, err := x.expand(s.Value, 0); err != nil {
				return err
			}
			continue
		}
		x.lookup = func(name string) (string, bool, error) {
			_, defined, err := lookup(name)
			return "", defined, err
		}
		if _, err := x.expand(s.Value, 0); err != nil && onUserError != nil {
			onUserError(err)
		}
	}
	return nil
}

// references returns the names text refers to, without following them.
// A syntax error ends the scan; what was found up to there is kept.
func references(text string, into map[string]bool) {
	x := &expander{
		lookup:      func(string) (string, bool, error) { return "", true, nil },
		onReference: func(name string) { into[name] = true },
		scan:        true,
	}
	_, _ = x.expand(text, 0)
}

// Referenced returns every name that some explicit setting, built-in
// default or extra text (master.cf "-o" values) refers to with $name.
func (c *Config) Referenced(extra ...string) map[string]bool {
	refs := c.defaultReferences()
	for _, s := range c.settings {
		references(s.Value, refs)
	}
	for _, text := range extra {
		references(text, refs)
	}
	return refs
}

// defaultReferences returns the names built-in defaults refer to.
func (c *Config) defaultReferences() map[string]bool {
	refs := map[string]bool{}
	for _, n := range Names() {
		if v, ok := staticDefault(n); ok {
			references(v, refs)
		}
	}
	for _, v := range c.serviceDefaults {
		references(v, refs)
	}
	return refs
}

// UserParameters splits the explicit settings of parameters that are not
// built in: used ones are referenced by some value (setting, default, or
// extra text such as master.cf "-o" values) and postconf shows them like
// built-in ones; unused ones get "unused parameter: name=value". Both are
// sorted by name.
func (c *Config) UserParameters(extra ...string) (used, unused []Setting) {
	refs := c.Referenced(extra...)
	for _, s := range c.Settings() {
		switch {
		case c.Known(s.Name):
		case refs[s.Name]:
			used = append(used, s)
		default:
			unused = append(unused, s)
		}
	}
	return used, unused
}
