package daemon

import (
	"os"
	"path/filepath"
	"testing"
)

// TestServiceNameExpandsInOverrides: master.cf's stock relay entry
// (-o syslog_name=postfix/$service_name) names the service in its log tag.
func TestServiceNameExpandsInOverrides(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.cf"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		service string
		want    string
	}{
		{"relay", "postfix/relay"},
		{"", "postfix/" + filepath.Base(os.Args[0])},
	} {
		cfg, err := loadConfig(&Options{ConfigDir: dir, Service: c.service,
			Overrides: []string{"syslog_name=postfix/$service_name"}})
		if err != nil {
			t.Fatal(err)
		}
		got, err := cfg.Get("syslog_name")
		if err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("-n %q: syslog_name = %q, want %q", c.service, got, c.want)
		}
	}
}
