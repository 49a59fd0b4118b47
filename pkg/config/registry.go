// registry.go is the single table of known parameters: Postfix 3.7's
// defaults (params_table.go), host-dependent ones (derived.go), Postern's
// own choices and its extension parameters.
package config

import "sort"

//go:generate go run ../../scripts/gen-params-table.go -o params_table.go

// Version is Postern's release, printed as mail_version.
const Version = "0.1.0"

// ReleaseDate is Postern's release date, printed as mail_release_date.
const ReleaseDate = "20261128"

// DefaultConfigDir is the configuration directory when neither -c nor
// MAIL_CONFIG names one.
const DefaultConfigDir = "/etc/postfix"

// posternDefaults replace Postfix's defaults where Postern deliberately
// differs (see the package documentation of each entry).
var posternDefaults = map[string]string{
	// The SMTP banner and bounces say honestly what answers.
	"mail_name": "Postern",
	// Postern has no legacy behaviour to emulate: it starts at the level of
	// Debian's stock main.cf. Level expressions still evaluate.
	"compatibility_level": "3.6",
	// Postfix 3.9's default: only <CR><LF>.<CR><LF> ends DATA, which
	// closes SMTP smuggling with <LF>.<CR><LF> out of the box.
	"smtpd_forbid_bare_newline": "normalize",
}

// extensionDefaults are Postern's own parameters, unknown to Postfix.
var extensionDefaults = map[string]string{
	// dns_servers lists host:port resolvers used instead of /etc/resolv.conf.
	"dns_servers": "",
}

// Extensions lists Postern's extension parameters with their defaults,
// sorted by name, for documentation.
func Extensions() []Setting {
	out := make([]Setting, 0, len(extensionDefaults))
	for n, v := range extensionDefaults {
		out = append(out, Setting{Name: n, Value: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Known reports whether name is a built-in (Postfix or Postern) parameter.
func Known(name string) bool {
	if _, ok := postfixDefaults[name]; ok {
		return true
	}
	if _, ok := extensionDefaults[name]; ok {
		return true
	}
	return derivedSet[name]
}

// IsRaw reports whether name's value is used unexpanded (it is expanded at
// delivery time with per-message variables such as $user), so postconf -x
// prints it as it is.
func IsRaw(name string) bool { return rawParameters[name] }

// Names returns every built-in parameter name, sorted.
func Names() []string {
	names := make([]string, 0, len(postfixDefaults)+len(extensionDefaults)+len(derivedNames))
	for n := range postfixDefaults {
		names = append(names, n)
	}
	for n := range extensionDefaults {
		names = append(names, n)
	}
	for _, n := range derivedNames {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// staticDefault returns the default of a parameter whose default does not
// depend on the host or on other settings.
func staticDefault(name string) (string, bool) {
	if v, ok := posternDefaults[name]; ok {
		return v, true
	}
	if v, ok := extensionDefaults[name]; ok {
		return v, true
	}
	v, ok := postfixDefaults[name]
	return v, ok
}
