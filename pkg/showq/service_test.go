package showq

import (
	"bytes"
	"context"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"

	"github.com/postern/postern/pkg/internal/sockdir"
	"github.com/postern/postern/pkg/maildrop"
	"github.com/postern/postern/pkg/queue"
)

// TestServiceListsQueue: a client gets, over the socket, the listing the
// daemon reads, in both formats.
func TestServiceListsQueue(t *testing.T) {
	dir := sockdir.New(t)
	layout := queue.NewLayout(dir, nil, 1, false)
	if err := layout.MakeDirs(); err != nil {
		t.Fatal(err)
	}
	id, err := maildrop.Write(layout, &maildrop.Submission{Sender: "alice@example.test", Recipients: []string{"bob@example.test"}}, strings.NewReader("hi\n"))
	if err != nil {
		t.Fatal(err)
	}
	socket := filepath.Join(dir, "showq")
	ln, err := net.Listen("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var warnings []string
	l := &Lister{Layout: layout, EmptyAddress: "MAILER-DAEMON", Warn: func(f string, a ...any) { warnings = append(warnings, f) }}
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			l.Serve(context.Background(), nc)
		}
	}()
	var text, js bytes.Buffer
	if err := Request(context.Background(), socket, false, &text); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), id) || !strings.Contains(text.String(), "alice@example.test") ||
		!strings.HasSuffix(text.String(), "-- 0 Kbytes in 1 Request.\n") {
		t.Errorf("text listing:\n%s", text.String())
	}
	if err := Request(context.Background(), socket, true, &js); err != nil {
		t.Fatal(err)
	}
	if want := `{"queue_name": "maildrop", "queue_id": "` + id + `"`; !strings.HasPrefix(js.String(), want) {
		t.Errorf("json listing %q, want prefix %q", js.String(), want)
	}
	if err := Request(context.Background(), filepath.Join(dir, "none"), false, &text); !errors.Is(err, ErrNoService) {
		t.Errorf("missing socket: %v, want ErrNoService", err)
	}
}
