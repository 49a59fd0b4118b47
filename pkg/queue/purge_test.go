package queue

import (
	"io"
	"os"
	"reflect"
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
