// Tests of SMTP AUTH: password lookup order, mechanism choice under the
// security options, and the PLAIN, LOGIN and CRAM-MD5 exchanges.

package smtpclient

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/maps"
)

// passwordMap writes a texthash table of "key user:password" lines.
func passwordMap(t *testing.T, lines ...string) maps.Table {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sasl_passwd")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	table, err := maps.Open("texthash:"+path, maps.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = table.Close() })
	return table
}

func TestSASL(t *testing.T) {
	pool, certs := testCA(t, []string{"127.0.0.3"})
	tlsSink := listenSink(t, "127.0.0.3:0", withTLS(certs[0]), withAuth("alice", "s3cret", "PLAIN", "LOGIN"))
	port := tlsSink.port()
	plainSink := listenSink(t, hostPort("127.0.0.4", port), insecureAuth, withAuth("bob", "pw", "PLAIN", "LOGIN", "CRAM-MD5"))
	loginSink := listenSink(t, hostPort("127.0.0.5", port), insecureAuth, withAuth("carol", "pw2", "LOGIN"))
	noAuthSink := listenSink(t, hostPort("127.0.0.6", port))

	tlsNexthop := "[127.0.0.3]:" + port
	tests := []struct {
		name       string
		nexthop    string
		tls        string
		options    []string
		tlsOptions []string
		passwords  []string
		sink       *sink
		wantUser   string
		status     ipc.DeliveryStatus
		reply      string
		logLine    string
	}{
		{name: "plain over tls by exact nexthop", nexthop: tlsNexthop, tls: "encrypt",
			options: []string{"noplaintext", "noanonymous"}, tlsOptions: []string{"noanonymous"},
			passwords: []string{tlsNexthop + " alice:s3cret", "127.0.0.3 alice:wrong"},
			sink:      tlsSink, wantUser: "alice", status: ipc.StatusSent},
		{name: "lookup by host", nexthop: tlsNexthop, tls: "encrypt",
			tlsOptions: []string{"noanonymous"}, passwords: []string{"127.0.0.3 alice:s3cret"},
			sink: tlsSink, wantUser: "alice", status: ipc.StatusSent},
		{name: "noplaintext without tls: no worthy mechs", nexthop: "[127.0.0.5]:" + port,
			options: []string{"noplaintext", "noanonymous"}, passwords: []string{"127.0.0.5 carol:pw2"},
			status: ipc.StatusDeferred, reply: "SASL authentication failed; cannot authenticate to server 127.0.0.5[127.0.0.5]: no mechanism available",
			logLine: "warning: SASL authentication failure: No worthy mechs found"},
		{name: "tls options apply over tls", nexthop: tlsNexthop, tls: "may",
			options: []string{"noanonymous"}, tlsOptions: []string{"noplaintext"}, passwords: []string{"127.0.0.3 alice:s3cret"},
			status: ipc.StatusDeferred, reply: "SASL authentication failed; cannot authenticate to server 127.0.0.3[127.0.0.3]: no mechanism available"},
		{name: "cram-md5 preferred", nexthop: "[127.0.0.4]:" + port,
			options: []string{"noplaintext", "noanonymous"}, passwords: []string{"[127.0.0.4]:" + port + " bob:pw"},
			sink: plainSink, wantUser: "bob", status: ipc.StatusSent},
		{name: "login", nexthop: "[127.0.0.5]:" + port,
			options: []string{"noanonymous"}, passwords: []string{"127.0.0.5 carol:pw2"},
			sink: loginSink, wantUser: "carol", status: ipc.StatusSent},
		{name: "wrong password", nexthop: "[127.0.0.4]:" + port,
			options: []string{"noanonymous"}, passwords: []string{"127.0.0.4 bob:bad"},
			status: ipc.StatusDeferred, reply: "SASL authentication failed; server 127.0.0.4[127.0.0.4] said: 454 4.7.0 authentication failed"},
		{name: "no password entry sends without auth", nexthop: "[127.0.0.6]:" + port,
			passwords: []string{"127.0.0.4 bob:pw"}, sink: noAuthSink, status: ipc.StatusSent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, readLog := newTestClient(t, port, nil, func(cfg *Config) {
				cfg.TLS = TLSPolicy{Level: tt.tls, RootCAs: pool}
				cfg.SASL = SASLPolicy{Enable: true, Options: tt.options, TLSOptions: tt.tlsOptions,
					Passwords: []maps.Table{passwordMap(t, tt.passwords...)}}
			})
			var before int
			if tt.sink != nil {
				before = len(tt.sink.received())
			}
			r := deliver(c, tt.nexthop, testMessage("user@x.test"))[0]
			if r.Status != tt.status || (tt.reply != "" && r.Reply != tt.reply) {
				t.Fatalf("result = %+v, want %v %q", r, tt.status, tt.reply)
			}
			if tt.logLine != "" && !strings.Contains(readLog(), tt.logLine) {
				t.Fatalf("log lacks %q:\n%s", tt.logLine, readLog())
			}
			if tt.sink != nil {
				got := tt.sink.received()
				if len(got) != before+1 || got[before].user != tt.wantUser {
					t.Fatalf("received %+v, want one message from user %q", got[before:], tt.wantUser)
				}
			}
		})
	}
}

func TestChooseMechanism(t *testing.T) {
	tests := []struct {
		offered []string
		options []string
		want    string
	}{
		{[]string{"PLAIN", "LOGIN", "CRAM-MD5"}, nil, "CRAM-MD5"},
		{[]string{"login", "plain"}, []string{"noanonymous"}, "PLAIN"},
		{[]string{"LOGIN"}, nil, "LOGIN"},
		{[]string{"PLAIN", "LOGIN"}, []string{"noplaintext"}, ""},
		{[]string{"CRAM-MD5"}, []string{"nodictionary"}, ""},
		{[]string{"DIGEST-MD5", "GSSAPI"}, nil, ""},
	}
	for _, tt := range tests {
		m, ok := chooseMechanism(tt.offered, tt.options)
		if m.name != tt.want || ok != (tt.want != "") {
			t.Errorf("chooseMechanism(%q, %q) = %q %v, want %q", tt.offered, tt.options, m.name, ok, tt.want)
		}
	}
}
