// Tests of what a set-group-id command keeps of its user's environment.

package cli

import (
	"maps"
	"testing"

	"github.com/postern/postern/pkg/config"
)

func TestImportedEnvironment(t *testing.T) {
	user := map[string]string{"MAIL_CONFIG": "/etc/other", "TZ": "Europe/Paris", "LANG": "de_DE.UTF-8",
		"GODEBUG": "x=1", "LD_PRELOAD": "/tmp/evil.so", "PATH": "/tmp", "IFS": "/"}
	lookup := func(name string) (string, bool) { v, ok := user[name]; return v, ok }
	def, _ := config.Lookup("import_environment")
	tests := []struct {
		names string
		want  map[string]string
	}{
		// Postfix's default: LANG is set to C whatever the user had.
		{def.Default, map[string]string{"MAIL_CONFIG": "/etc/other", "TZ": "Europe/Paris", "LANG": "C"}},
		{"TZ, PATH=/usr/bin:/bin\tNOT_SET", map[string]string{"TZ": "Europe/Paris", "PATH": "/usr/bin:/bin"}},
		{"", map[string]string{}},
	}
	for _, tt := range tests {
		if got := importedEnvironment(tt.names, lookup); !maps.Equal(got, tt.want) {
			t.Errorf("import_environment = %q: %v, want %v", tt.names, got, tt.want)
		}
	}
}
