// registry.go is the single table of known parameters: Postfix 3.7's
// declarations (params_table.go), host-dependent defaults (derived.go),
// Postern's own choices and its extension parameters.

package config

import "sort"

//go:generate go run ../../scripts/gen-params-table.go -o params_table.go -src $POSTFIX_SRC

// Version is Postern's release, printed as mail_version.
const Version = "0.1.0"

// ReleaseDate is Postern's release date, printed as mail_release_date.
const ReleaseDate = "20261128"

// DefaultConfigDir is the configuration directory when neither -c nor
// MAIL_CONFIG names one. Like Postfix's compiled-in default it can be set
// at build time (go build -ldflags -X .../pkg/config.DefaultConfigDir=DIR):
// the set-group-id commands trust only it.
var DefaultConfigDir = "/etc/postfix"

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

// extensionParams are Postern's own parameters, unknown to Postfix.
var extensionParams = map[string]Param{
	// dns_servers lists host:port resolvers used instead of /etc/resolv.conf.
	"dns_servers": {Name: "dns_servers", Kind: KindString},
}

// Known reports whether name is a built-in (Postfix or Postern) parameter.
func Known(name string) bool {
	_, ok := Lookup(name)
	return ok
}

// IsRaw reports whether name's value is used unexpanded (it is expanded at
// delivery time with per-message variables such as $user), so postconf -x
// prints it as it is.
func IsRaw(name string) bool { return postfixParams[name].Raw }

// Names returns every built-in parameter name, sorted.
func Names() []string {
	names := make([]string, 0, len(postfixParams)+len(extensionParams))
	for n := range postfixParams {
		names = append(names, n)
	}
	for n := range extensionParams {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// staticDefault returns the default of a parameter whose default does not
// depend on the host or on other settings.
func staticDefault(name string) (string, bool) {
	p, ok := Lookup(name)
	return p.Default, ok
}
