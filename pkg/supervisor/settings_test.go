package supervisor

import (
	"os"
	"strings"
	"testing"

	"github.com/postern/postern/pkg/config"
)

func TestFromConfig(t *testing.T) {
	dir := t.TempDir()
	mainCF := "queue_directory = /q\nservice_throttle_time = 5\ndaemon_directory = $queue_directory/bin\ndefault_process_limit = 7\n"
	if err := os.WriteFile(dir+"/main.cf", []byte(mainCF), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	s, err := FromConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if s.QueueDir != "/q" || s.DaemonDir != "/q/bin" || s.ThrottleTime.Seconds() != 5 || s.DefaultProcessLimit != 7 || s.ConfigDir != dir {
		t.Errorf("settings = %+v", s)
	}
	if s.InetInterfaces != "all" || s.InetProtocols != "all" || s.MailOwner != "postfix" {
		t.Errorf("defaults not applied: %+v", s)
	}
}

func TestFromConfigErrors(t *testing.T) {
	tests := []struct{ mainCF, want string }{
		{"queue_directory = relative\n", `queue_directory must be an absolute path name: "relative"`},
		{"service_throttle_time = soon\n", "parameter service_throttle_time: bad time value or unit: soon"},
	}
	for _, tt := range tests {
		dir := t.TempDir()
		if err := os.WriteFile(dir+"/main.cf", []byte(tt.mainCF), 0o644); err != nil {
			t.Fatal(err)
		}
		cfg, err := config.Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := FromConfig(cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: error %v, want %q", tt.mainCF, err, tt.want)
		}
	}
}

func TestResolveOwnerRefusesRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mail_owner is looked up only when root")
	}
	s := Settings{ConfigDir: "/etc/postfix", MailOwner: "root", SetgidGroup: "root"}
	_, err := s.ResolveOwner()
	want := "file /etc/postfix/main.cf: parameter mail_owner: user root has same user ID as root"
	if err == nil || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
	}
}
