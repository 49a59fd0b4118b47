// Tests of smtp_generic_maps: envelope and primary header addresses
// rewritten on the way out, the body and the logged addresses left alone.

package smtpclient

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/postern/postern/pkg/addr"
	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/maps"
	"github.com/postern/postern/pkg/resolve"
)

func testGenericMaps(t *testing.T, table string) *GenericMaps {
	t.Helper()
	path := filepath.Join(t.TempDir(), "generic")
	if err := os.WriteFile(path, []byte(table), 0o644); err != nil {
		t.Fatal(err)
	}
	tab, err := maps.Open("texthash:"+path, maps.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tab.Close() })
	return &GenericMaps{Tables: []maps.Table{tab}, AddressFinder: resolve.AddressFinder{Extensions: addr.Extensions{Delimiter: "+"}, MyOrigin: "local.example"}}
}

func TestGenericMap(t *testing.T) {
	g := testGenericMaps(t, "alice@local.example alice@example.com\nbob bob.smith@example.com\n@local.example @example.org\nroot postmaster\n")
	for in, want := range map[string]string{
		"alice@local.example":     "alice@example.com",
		"alice+tag@local.example": "alice@example.com",
		"bob@local.example":       "bob.smith@example.com",
		"carol@local.example":     "carol@example.org",
		"root@local.example":      "postmaster@local.example",
		"bob@remote.example":      "bob@remote.example",
		"":                        "",
	} {
		if got, err := g.Map(in); err != nil || got != want {
			t.Errorf("Map(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	g.Propagate = true
	if got, _ := g.Map("alice+tag@local.example"); got != "alice+tag@example.com" {
		t.Errorf("with propagation: %s", got)
	}
}

func TestGenericMapsOnTheWire(t *testing.T) {
	s := listenSink(t, "127.0.0.3:0")
	g := testGenericMaps(t, "@local.example @example.org\n")
	c, _ := newTestClient(t, s.port(), nil, func(cfg *Config) { cfg.Generic = g })
	content := "From: Alice <alice@local.example>\nTo: bob@local.example, carol@remote.example\n" +
		"Cc: one@local.example, two@local.example, three@local.example, four@local.example\n" +
		"Subject: generic\n\nFrom: alice@local.example\n"
	m := &Message{QueueID: "4ABC123", Sender: "alice@local.example", Size: int64(len(content)),
		Recipients: []ipc.Recipient{{Address: "bob@local.example", Offset: 100}},
		Open:       func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(content)), nil }}
	r := deliver(c, "[127.0.0.3]", m)
	if r[0].Status != ipc.StatusSent || r[0].Address != "bob@local.example" {
		t.Fatalf("result %+v", r[0])
	}
	got := s.received()
	if len(got) != 1 {
		t.Fatalf("%d messages", len(got))
	}
	if got[0].from != "alice@example.org" || strings.Join(got[0].to, ",") != "bob@example.org" {
		t.Errorf("envelope from=%s to=%v", got[0].from, got[0].to)
	}
	want := "From: Alice <alice@example.org>\r\nTo: bob@example.org, carol@remote.example\r\n" +
		"Cc: one@example.org, two@example.org, three@example.org,\r\n\tfour@example.org\r\n" +
		"Subject: generic\r\n\r\nFrom: alice@local.example\r\n"
	if got[0].data != want {
		t.Errorf("content\n%q\nwant\n%q", got[0].data, want)
	}
}
