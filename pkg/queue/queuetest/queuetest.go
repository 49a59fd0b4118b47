// Package queuetest builds throw-away queue directories with chosen queue
// IDs for the tests of the queue commands.
package queuetest

import (
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/postern/postern/pkg/queue"
)

// Setup creates a configuration directory whose main.cf points
// queue_directory and maillog_file into a temporary directory, plus any
// extra main.cf lines, and returns it with the queue layout.
func Setup(t testing.TB, extraMainCF string) (configDir string, layout *queue.Layout) {
	t.Helper()
	root := t.TempDir()
	configDir = filepath.Join(root, "etc")
	queueDir := filepath.Join(root, "spool")
	if err := os.MkdirAll(configDir, 0o755); err != nil {
		t.Fatal(err)
	}
	mainCF := "queue_directory = " + queueDir + "\n" +
		"maillog_file = " + filepath.Join(root, "maillog") + "\n" +
		"maillog_file_prefixes = " + root + "\n" +
		"myhostname = mx.test.example\n" + extraMainCF
	if err := os.WriteFile(filepath.Join(configDir, "main.cf"), []byte(mainCF), 0o644); err != nil {
		t.Fatal(err)
	}
	layout = queue.NewLayout(queueDir, []string{queue.Deferred, queue.Defer}, 1, false)
	if err := layout.MakeDirs(); err != nil {
		t.Fatal(err)
	}
	return configDir, layout
}

// Maillog returns what the commands logged to maillog_file so far.
func Maillog(t testing.TB, configDir string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(filepath.Dir(configDir), "maillog"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return string(data)
}

// Place writes a committed queue file and renames it to id in queue (so
// that tests can expect fixed IDs). It returns the file's recipients with
// their offsets.
func Place(t testing.TB, l *queue.Layout, queueName, id string, env *queue.Envelope, content string) []queue.Recipient {
	t.Helper()
	w, err := l.Create(queue.Incoming)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.WriteEnvelope(env); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(w, content); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	dst := l.Path(queueName, id)
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(w.Path, dst); err != nil {
		t.Fatal(err)
	}
	return w.Recipients()
}

// At returns a fixed UTC time on the day the reference outputs were taken.
func At(hour, min, sec int) time.Time {
	return time.Date(2026, time.November, 28, hour, min, sec, 0, time.UTC)
}
