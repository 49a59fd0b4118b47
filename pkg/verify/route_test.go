package verify

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/postern/postern/pkg/config"
)

func TestProbeConfig(t *testing.T) {
	dir := t.TempDir()
	mainCF := `relayhost = [gw.example]
transport_maps = hash:/etc/postfix/transport
address_verify_transport_maps = texthash:/etc/postfix/probe_transport
address_verify_default_transport = smtp:[probe.example]
`
	if err := os.WriteFile(filepath.Join(dir, "main.cf"), []byte(mainCF), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	probe, err := ProbeConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"transport_maps":    "texthash:/etc/postfix/probe_transport",
		"relayhost":         "[gw.example]", // address_verify_relayhost defaults to $relayhost
		"default_transport": "smtp:[probe.example]",
		"relay_transport":   "relay",
	} {
		got, err := probe.Get(name)
		if err != nil || got != want {
			t.Errorf("%s = %q (%v), want %q", name, got, err, want)
		}
	}
	local, _ := cfg.Get("local_transport")
	if got, _ := probe.Get("local_transport"); got != local {
		t.Errorf("local_transport = %q, want %q", got, local)
	}
	if got, _ := cfg.Get("transport_maps"); got != "hash:/etc/postfix/transport" {
		t.Errorf("the ordinary configuration changed: transport_maps = %q", got)
	}
}
