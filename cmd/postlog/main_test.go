// Tests of postlog's argument parsing and line reading.

package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/pkg/maillog"
)

func TestParseArgs(t *testing.T) {
	tests := []struct {
		args []string
		want options
		err  string
	}{
		{nil, options{priority: "info"}, ""},
		{[]string{"hello", "world"}, options{priority: "info", text: []string{"hello", "world"}}, ""},
		{[]string{"-c", "/etc/pf", "-p", "warn", "-t", "mytag", "x"}, options{configDir: "/etc/pf", priority: "warn", tag: "mytag", text: []string{"x"}}, ""},
		{[]string{"-iv", "-tx/y", "-v", "--", "-dash"}, options{priority: "info", tag: "x/y", verbose: 2, text: []string{"-dash"}}, ""},
		{[]string{"-pfatal", "a", "-v"}, options{priority: "fatal", text: []string{"a", "-v"}}, ""},
		{[]string{"-", "x"}, options{priority: "info", text: []string{"-", "x"}}, ""},
		{[]string{"-x", "z"}, options{}, "invalid option -- 'x'"},
		{[]string{"-ix"}, options{}, "invalid option -- 'x'"},
		{[]string{"-c"}, options{}, "option requires an argument -- 'c'"},
	}
	for _, tt := range tests {
		got, err := parseArgs(tt.args)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("parseArgs(%q) error %v, want %q", tt.args, err, tt.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("parseArgs(%q) = %+v, %v; want %+v", tt.args, got, err, tt.want)
		}
	}
}

func TestLogLines(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "maillog")
	now := time.Date(2026, time.November, 28, 14, 56, 37, 0, time.Local)
	logger, err := maillog.New(maillog.Options{Tag: "empt", Hostname: "mx.test.example", File: path, FilePrefixes: dir,
		Now: func() time.Time { return now }, PID: 25353})
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("L", 10000)
	input := "a\n\nb\n" + long + "\nlast without newline"
	if err := logLines(logger, maillog.LevelWarning, strings.NewReader(input)); err != nil {
		t.Fatal(err)
	}
	logger.Close()
	prefix := "Nov 28 14:56:37 mx empt[25353]: warning: "
	want := prefix + "a\n" + prefix + "\n" + prefix + "b\n" + prefix + long[:maillog.MaxTextLength] + "\n" + prefix + "last without newline\n"
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("log:\n%.300s\nwant:\n%.300s", got, want)
	}
}

func TestCheckConfigDir(t *testing.T) {
	dir := t.TempDir()
	if err := checkConfigDir(dir); err == nil || err.Error() != "open "+dir+"/main.cf: no such file or directory" {
		t.Errorf("checkConfigDir(empty dir) = %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.cf"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := checkConfigDir(dir); err != nil {
		t.Errorf("checkConfigDir = %v", err)
	}
	t.Setenv("MAIL_CONFIG", dir)
	if err := checkConfigDir(""); err != nil {
		t.Errorf("checkConfigDir with MAIL_CONFIG = %v", err)
	}
}
