// What a set-group-id command (postdrop, postqueue) trusts from the user who runs it: the configuration directory and the environment.

package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/postern/postern/pkg/config"
)

// IsSetgid reports whether this process runs with a group it was given
// by a set-group-id program, for a user other than root.
func IsSetgid() bool {
	return os.Getuid() != 0 && os.Getegid() != os.Getgid()
}

// CheckConfigDir refuses, in a set-group-id command run by an ordinary
// user, a configuration directory (from -c or MAIL_CONFIG) other than the
// compiled-in default unless the default main.cf lists it in
// alternate_config_directories or multi_instance_directories, as Postfix
// does: otherwise a user could make the command act with the group's
// rights under a configuration of their own.
func CheckConfigDir(flagValue string) error {
	dir := filepath.Clean(config.ConfigDir(flagValue))
	if !IsSetgid() || dir == filepath.Clean(config.DefaultConfigDir) {
		return nil
	}
	def, err := config.Load(config.DefaultConfigDir)
	if err != nil {
		return err
	}
	for _, name := range []string{"alternate_config_directories", "multi_instance_directories"} {
		allowed, err := def.List(name)
		if err != nil {
			return err
		}
		for i := range allowed {
			allowed[i] = filepath.Clean(allowed[i])
		}
		if slices.Contains(allowed, dir) {
			return nil
		}
	}
	return fmt.Errorf("%s is not listed in alternate_config_directories of %s/main.cf", dir, config.DefaultConfigDir)
}

// CleanEnvironment reduces the environment of a set-group-id command to
// what import_environment of the default main.cf allows (NAME, or
// NAME=value to set it), as Postfix's setgid programs do, so that
// nothing a user sets (GODEBUG, GOTRACEBACK, TZ files, ...) steers the
// program beyond that list. It does nothing when not set-group-id.
func CleanEnvironment() error {
	if !IsSetgid() {
		return nil
	}
	param, _ := config.Lookup("import_environment")
	names := param.Default
	if cfg, err := config.Load(config.DefaultConfigDir); err == nil {
		if v, err := cfg.Get("import_environment"); err == nil {
			names = v
		}
	}
	keep := importedEnvironment(names, os.LookupEnv)
	os.Clearenv()
	for name, value := range keep {
		if err := os.Setenv(name, value); err != nil {
			return fmt.Errorf("setenv %s: %w", name, err)
		}
	}
	return nil
}

// importedEnvironment is the environment import_environment's names
// keep: NAME keeps the variable when it is set, NAME=value sets it.
func importedEnvironment(names string, lookup func(string) (string, bool)) map[string]string {
	keep := map[string]string{}
	for _, entry := range strings.FieldsFunc(names, func(r rune) bool { return r == ' ' || r == ',' || r == '\t' || r == '\n' }) {
		if name, value, ok := strings.Cut(entry, "="); ok {
			keep[name] = value
			continue
		}
		if value, ok := lookup(entry); ok {
			keep[entry] = value
		}
	}
	return keep
}
