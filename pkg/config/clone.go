// Copies of a configuration, for programs that need a variant of it (the
// routing of address verification probes).

package config

import "maps"

// Clone returns a copy of c whose settings change independently of c's.
func (c *Config) Clone() *Config {
	d := *c
	d.Warnings = append([]string(nil), c.Warnings...)
	d.settings = maps.Clone(c.settings)
	d.serviceDefaults = maps.Clone(c.serviceDefaults)
	return &d
}
