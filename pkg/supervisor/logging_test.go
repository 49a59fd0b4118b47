package supervisor

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestOpenLog(t *testing.T) {
	dir := t.TempDir()
	logFile := filepath.Join(dir, "maillog")
	mainCF := "maillog_file = " + logFile + "\nmaillog_file_prefixes = " + dir + "\nsyslog_name = postfix-two\nmyhostname = mx.example.test\n"
	if err := os.WriteFile(filepath.Join(dir, "main.cf"), []byte(mainCF), 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	log, err := OpenLog(dir, "master", &stderr)
	if err != nil {
		t.Fatal(err)
	}
	log.Warning("hello %d", 1)
	log.Close()
	if got, want := stderr.String(), "postfix-two/master: warning: hello 1\n"; got != want {
		t.Errorf("stderr = %q, want %q", got, want)
	}
	data, _ := os.ReadFile(logFile)
	if !regexp.MustCompile(`^\w{3} [ \d]\d \d\d:\d\d:\d\d mx postfix-two/master\[\d+\]: warning: hello 1\n$`).Match(data) {
		t.Errorf("log file = %q", data)
	}
}

func TestOpenLogWithoutMainCF(t *testing.T) {
	dir := t.TempDir()
	log, err := OpenLog(dir, "master", nil)
	if log == nil {
		t.Fatal("no fallback logger")
	}
	log.Close()
	if err == nil || !strings.Contains(err.Error(), "open "+dir+"/main.cf: No such file or directory") {
		t.Errorf("error = %v", err)
	}
}

func TestFatalLinesOnly(t *testing.T) {
	var out bytes.Buffer
	w := FatalLinesOnly(&out)
	for _, line := range []string{"postfix/master: daemon started\n", "postfix/master: fatal: bind: in use\n", "postfix/master: warning: x\n"} {
		if n, err := w.Write([]byte(line)); n != len(line) || err != nil {
			t.Errorf("Write(%q) = %d, %v", line, n, err)
		}
	}
	if got, want := out.String(), "postfix/master: fatal: bind: in use\n"; got != want {
		t.Errorf("passed %q, want %q", got, want)
	}
}
