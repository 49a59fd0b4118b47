// Package config reads Postfix's main.cf exactly as Postfix does: logical
// lines, last setting wins, -o overrides on top, and $name expansion done
// lazily when a value is used.
//
// Every parameter is declared once (Param: name, kind, default, bounds,
// raw or expanded). Postfix's are generated into params_table.go from
// `postconf -d` and Postfix's source by scripts/gen-params-table.go;
// Postern's own are in registry.go. Lookup returns a declaration.
//
// A package reads its parameters one way: a settings struct whose fields
// carry the parameter names in `param` tags, filled by Config.Fill:
//
//	type Settings struct {
//		MessageSizeLimit int64         `param:"message_size_limit"`
//		Timeout          time.Duration `param:"smtpd_timeout"`
//		DisableVRFY      bool          `param:"disable_vrfy_command"`
//		MyDestination    []string      `param:"mydestination"`
//	}
//	var s Settings
//	if err := cfg.Fill(&s); err != nil { ... } // Postfix's fatal text
//
// Fill converts each value by its declared kind and checks its bounds with
// Postfix's error texts; -o overrides (Config.Override) are seen as
// main.cf settings. Per-transport parameters (<transport>_destination_
// concurrency_limit and the like) are read with FillTransport and tags
// that start with "_". Config.Check validates every explicit setting, for
// `postfix check`. What a package derives from the values (opening
// tables, combining parameters) stays in its own constructor.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
)

// Config is one program's view of main.cf plus its overrides.
type Config struct {
	// Dir is the configuration directory and Path its main.cf.
	Dir  string
	Path string
	// Warnings are what parsing main.cf reported (overridden entries,
	// misplaced continuation lines), worded as postconf prints them.
	Warnings []string

	settings map[string]Setting
	// serviceDefaults are parameters derived from master.cf (AddService).
	serviceDefaults map[string]string
}

// ConfigDir chooses the configuration directory as every Postfix program
// does: the -c flag value if given, else $MAIL_CONFIG, else /etc/postfix.
func ConfigDir(flagValue string) string {
	if flagValue != "" {
		return flagValue
	}
	if env := os.Getenv("MAIL_CONFIG"); env != "" {
		return env
	}
	return DefaultConfigDir
}

// FileError is a failed file operation worded as Postfix words it
// ("open /etc/postfix/main.cf: No such file or directory").
type FileError struct {
	Op, Path string
	Err      error
}

func (e *FileError) Error() string {
	msg := e.Err.Error()
	var errno syscall.Errno
	if errors.As(e.Err, &errno) {
		msg = errno.Error()
	}
	if msg != "" {
		msg = strings.ToUpper(msg[:1]) + msg[1:]
	}
	return fmt.Sprintf("%s %s: %s", e.Op, e.Path, msg)
}

// Unwrap exposes the underlying error (errors.Is(err, fs.ErrNotExist) works).
func (e *FileError) Unwrap() error { return e.Err }

// fileError converts an os error into a FileError for op on path.
func fileError(op, path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return &FileError{Op: op, Path: path, Err: err}
}

// Load reads dir/main.cf. Its settings, plus config_directory = dir, become
// the explicit settings; everything else takes its default.
func Load(dir string) (*Config, error) {
	c := Defaults(dir)
	data, err := os.ReadFile(c.Path)
	if err != nil {
		return nil, fileError("open", c.Path, err)
	}
	settings, err := ParseMainCF(c.Path, data, func(w string) { c.Warnings = append(c.Warnings, w) })
	if err != nil {
		return nil, err
	}
	for _, s := range settings {
		c.settings[s.Name] = s
	}
	c.settings["config_directory"] = Setting{Name: "config_directory", Value: dir}
	return c, nil
}

// Defaults returns a configuration with no settings at all: every
// parameter has its default (what postconf -d shows).
func Defaults(dir string) *Config {
	return &Config{Dir: dir, Path: filepath.Join(dir, "main.cf"), settings: map[string]Setting{}}
}

// Set overrides a parameter, as "-o name=value" does.
func (c *Config) Set(name, value string) {
	c.settings[name] = Setting{Name: name, Value: value}
}

// Override applies one "-o name=value" argument.
func (c *Config) Override(nameValue string) error {
	name, value, err := SplitNameValue(nameValue)
	if err != nil {
		return fmt.Errorf("invalid parameter override: %s: %v", nameValue, err)
	}
	c.Set(name, value)
	return nil
}

// Explicit returns the setting for name from main.cf or an override.
func (c *Config) Explicit(name string) (Setting, bool) {
	s, ok := c.settings[name]
	return s, ok
}

// Settings returns the explicit settings sorted by name.
func (c *Config) Settings() []Setting {
	out := make([]Setting, 0, len(c.settings))
	for _, s := range c.settings {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Default returns name's default in this configuration (derived defaults
// such as mydomain depend on other settings). ok is false for a name that
// is not a built-in parameter.
func (c *Config) Default(name string) (value string, ok bool, err error) {
	return c.defaultWith(name, nil)
}

// defaultWith is Default inside an expansion that looks names up in vars
// first. While a derived default is computed, its own name reads as empty,
// so settings that refer back to it cannot loop.
func (c *Config) defaultWith(name string, vars map[string]string) (string, bool, error) {
	if _, derived := derivedSet[name]; derived {
		hidden := make(map[string]string, len(vars)+1)
		for k, v := range vars {
			hidden[k] = v
		}
		hidden[name] = ""
		v, err := deriveDefault(c, name, hidden)
		return v, true, err
	}
	if v, ok := c.serviceDefaults[name]; ok {
		return v, true, nil
	}
	v, ok := staticDefault(name)
	return v, ok, nil
}

// Raw returns name's unexpanded value: its setting, else its default.
// defined is false for an unknown name that is not set.
func (c *Config) Raw(name string) (value string, defined bool, err error) {
	return c.rawWith(name, nil)
}

func (c *Config) rawWith(name string, vars map[string]string) (string, bool, error) {
	if s, ok := c.settings[name]; ok {
		return s.Value, true, nil
	}
	return c.defaultWith(name, vars)
}

// Get returns name's value with $name references expanded. Raw parameters
// (forward_path, mailbox_command, ...) are returned unexpanded; expand them
// with ExpandWith and the per-delivery variables. An unknown, unset name
// gives "".
func (c *Config) Get(name string) (string, error) {
	return c.getWith(name, nil)
}

func (c *Config) getWith(name string, vars map[string]string) (string, error) {
	v, _, err := c.rawWith(name, vars)
	if err != nil || IsRaw(name) {
		return v, err
	}
	return c.ExpandWith(v, vars)
}

// Expand expands $name references in text using this configuration.
func (c *Config) Expand(text string) (string, error) {
	return c.ExpandWith(text, nil)
}

// ExpandWith expands text, looking names up in vars before the
// configuration (for $user, $home, $recipient ... at delivery time).
func (c *Config) ExpandWith(text string, vars map[string]string) (string, error) {
	return c.ExpandReporting(text, vars, nil)
}

// ExpandReporting is ExpandWith that also calls onUndefined for every
// reference to a name that is neither in vars nor defined (postconf -x
// warns "undefined parameter").
func (c *Config) ExpandReporting(text string, vars map[string]string, onUndefined func(name string)) (string, error) {
	x := &expander{lookup: c.lookupWith(vars), onUndefined: onUndefined}
	return x.expand(text, 0)
}

// lookupWith is the expansion lookup: vars first, then the configuration.
func (c *Config) lookupWith(vars map[string]string) LookupFunc {
	return func(name string) (string, bool, error) {
		if v, ok := vars[name]; ok {
			return v, true, nil
		}
		return c.rawWith(name, vars)
	}
}
