// config_test.go checks loading main.cf, the config directory choice and
// -o overrides.

package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestConfigDir(t *testing.T) {
	t.Setenv("MAIL_CONFIG", "")
	if got := ConfigDir(""); got != "/etc/postfix" {
		t.Errorf("default = %q", got)
	}
	t.Setenv("MAIL_CONFIG", "/env/dir")
	if got := ConfigDir(""); got != "/env/dir" {
		t.Errorf("MAIL_CONFIG = %q", got)
	}
	if got := ConfigDir("/flag/dir"); got != "/flag/dir" {
		t.Errorf("-c = %q", got)
	}
}

func TestLoad(t *testing.T) {
	fakeHost(t, "mx.test.example")
	dir := t.TempDir()
	data := "myhostname = one.example\nrelayhost = [gw]\nmyhostname = two.example\n"
	if err := os.WriteFile(filepath.Join(dir, "main.cf"), []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Warnings) != 1 || c.Warnings[0] != filepath.Join(dir, "main.cf")+", line 3: overriding earlier entry: myhostname=one.example" {
		t.Errorf("warnings = %q", c.Warnings)
	}
	if err := c.Override("relayhost = [other]:2525"); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"myhostname":       "two.example",
		"relayhost":        "[other]:2525",
		"config_directory": dir,
		"myorigin":         "two.example",
	} {
		if got, err := c.Get(name); err != nil || got != want {
			t.Errorf("Get(%s) = %q, %v; want %q", name, got, err, want)
		}
	}
	var names []string
	for _, s := range c.Settings() {
		names = append(names, s.Name)
	}
	if len(names) != 3 || names[0] != "config_directory" || names[1] != "myhostname" || names[2] != "relayhost" {
		t.Errorf("settings = %q", names)
	}
	if err := c.Override("relayhost"); err == nil || err.Error() != "invalid parameter override: relayhost: missing '=' after attribute name" {
		t.Errorf("bad override error = %v", err)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	_, err := Load(dir)
	if !errors.Is(err, fs.ErrNotExist) || err.Error() != "open "+dir+"/main.cf: No such file or directory" {
		t.Errorf("missing main.cf: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.cf"), []byte("ok = 1\nxyz\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Load(dir)
	if err == nil || err.Error() != dir+`/main.cf, line 2: missing '=' after attribute name: "xyz"` {
		t.Errorf("malformed main.cf: %v", err)
	}
}
