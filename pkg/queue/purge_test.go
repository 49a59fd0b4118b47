package queue

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
)

func TestPurgeAbandoned(t *testing.T) {
	l := newTestLayout(t)
	live, err := l.Create(Incoming)
	if err != nil {
		t.Fatal(err)
	}
	defer live.Abandon()
	live.WriteEnvelope(testEnvelope())
	io.WriteString(live, "still being written")

	dead, err := l.Create(Incoming)
	if err != nil {
		t.Fatal(err)
	}
	dead.WriteEnvelope(testEnvelope())
	io.WriteString(dead, "half a message")
	dead.buf.Flush()
	dead.file.Close() // as if its writer were killed: the lock goes with it

	committed := writeMessage(t, l, Incoming, testEnvelope(), "Subject: whole\n\nbody\n")

	removed, err := l.PurgeAbandoned(Incoming)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{dead.ID}; !reflect.DeepEqual(removed, want) {
		t.Errorf("PurgeAbandoned removed %v, want %v", removed, want)
	}
	for _, keep := range []string{live.Path, committed.Path} {
		if _, err := os.Stat(keep); err != nil {
			t.Errorf("%s: %v, want it kept", keep, err)
		}
	}
	if _, err := os.Stat(dead.Path); !os.IsNotExist(err) {
		t.Errorf("abandoned file still there: %v", err)
	}
}

// A temporary file of a writer killed before it named the file (tmp.PID.N
// in create) goes when PID is gone; one of a live process stays, and so
// does a file of another name.
func TestPurgeOrphanedTemporaryFiles(t *testing.T) {
	l := newTestLayout(t)
	exited := exec.Command("true")
	if err := exited.Run(); err != nil {
		t.Fatal(err)
	}
	orphan := "tmp." + strconv.Itoa(exited.Process.Pid) + ".17"
	kept := []string{"tmp." + processID + ".18", "tmp.x.19", "other.file"}
	for _, name := range append(kept, orphan) {
		if err := os.WriteFile(filepath.Join(l.Root, Incoming, name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	removed, err := l.PurgeAbandoned(Incoming)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{orphan}; !reflect.DeepEqual(removed, want) {
		t.Errorf("PurgeAbandoned removed %v, want %v", removed, want)
	}
	for _, name := range kept {
		if _, err := os.Stat(filepath.Join(l.Root, Incoming, name)); err != nil {
			t.Errorf("%s: %v, want it kept", name, err)
		}
	}
}
