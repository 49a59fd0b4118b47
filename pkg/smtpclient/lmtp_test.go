// Tests of LMTP mode against a scripted server on a UNIX socket: LHLO,
// one reply per recipient after DATA, and a server that goes away
// before it answered for every recipient.

package smtpclient

import (
	"bufio"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/postern/postern/pkg/internal/sockdir"
	"github.com/postern/postern/pkg/ipc"
)

// lmtpServer answers one session: RCPT for "unknown@" fails, and after
// the message it sends the replies in dotReplies, then closes when
// hangUp is set (before the other replies), or waits for QUIT.
func lmtpServer(t *testing.T, dotReplies []string, hangUp bool) (path string, commands func() []string) {
	t.Helper()
	path = filepath.Join(sockdir.New(t), "lmtp")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var mu sync.Mutex
	var seen []string
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		r, w := bufio.NewReader(c), bufio.NewWriter(c)
		say := func(lines ...string) {
			for _, l := range lines {
				w.WriteString(l + "\r\n")
			}
			w.Flush()
		}
		say("220 lmtp.test LMTP ready")
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimRight(line, "\r\n")
			mu.Lock()
			seen = append(seen, line)
			mu.Unlock()
			verb := strings.ToUpper(strings.Fields(line + " x")[0])
			switch {
			case verb == "LHLO":
				say("250-lmtp.test", "250-PIPELINING", "250 ENHANCEDSTATUSCODES")
			case verb == "RCPT" && strings.Contains(line, "unknown@"):
				say("550 5.1.1 <unknown@x.test> User doesn't exist")
			case verb == "DATA":
				say("354 go ahead")
				for {
					l, err := r.ReadString('\n')
					if err != nil || l == ".\r\n" {
						break
					}
				}
				if hangUp {
					say(dotReplies[0])
					return
				}
				say(dotReplies...)
			case verb == "QUIT":
				say("221 bye")
				return
			default:
				say("250 2.0.0 ok")
			}
		}
	}()
	return path, func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), seen...) }
}

func TestLMTPOneReplyPerRecipient(t *testing.T) {
	path, commands := lmtpServer(t, []string{"250 2.0.0 <a@x.test> Saved", "452 4.2.2 <b@x.test> Quota exceeded"}, false)
	c, _ := newTestClient(t, "24", nil, func(cfg *Config) { cfg.LMTP = true; cfg.HeloName = "client.test" })
	results := deliver(c, "unix:"+path, testMessage("a@x.test", "unknown@x.test", "b@x.test"))
	where := "client.test[" + path + "]"
	want := []struct {
		status ipc.DeliveryStatus
		dsn    string
		reply  string
	}{
		{ipc.StatusSent, "2.0.0", "250 2.0.0 <a@x.test> Saved"},
		{ipc.StatusBounced, "5.1.1", "host " + where + " said: 550 5.1.1 <unknown@x.test> User doesn't exist (in reply to RCPT TO command)"},
		{ipc.StatusDeferred, "4.2.2", "host " + where + " said: 452 4.2.2 <b@x.test> Quota exceeded (in reply to end of DATA command)"},
	}
	for i, w := range want {
		r := results[i]
		if r.Status != w.status || r.DSNCode != w.dsn || r.Reply != w.reply || r.Relay != where {
			t.Errorf("recipient %d: %+v, want %+v relay %s", i, r, w, where)
		}
	}
	if got := commands(); len(got) == 0 || got[0] != "LHLO client.test" {
		t.Errorf("commands %q, want LHLO first", got)
	}
}

func TestLMTPServerGoneMidTransaction(t *testing.T) {
	path, _ := lmtpServer(t, []string{"250 2.0.0 <a@x.test> Saved"}, true)
	c, _ := newTestClient(t, "24", nil, func(cfg *Config) { cfg.LMTP = true; cfg.HeloName = "client.test" })
	results := deliver(c, "unix:"+path, testMessage("a@x.test", "b@x.test"))
	if r := results[0]; r.Status != ipc.StatusSent {
		t.Errorf("first recipient: %+v", r)
	}
	r := results[1]
	want := "lost connection with client.test[" + path + "] while sending end of data -- message may be sent more than once"
	if r.Status != ipc.StatusDeferred || r.DSNCode != "4.4.2" || r.Reply != want {
		t.Errorf("second recipient: %+v, want deferred %q", r, want)
	}
}

func TestLMTPNoSocketDefers(t *testing.T) {
	c, _ := newTestClient(t, "24", nil, func(cfg *Config) { cfg.LMTP = true })
	path := filepath.Join(sockdir.New(t), "missing")
	r := deliver(c, "unix:"+path, testMessage("a@x.test"))[0]
	if want := "connect to client.test[" + path + "]: No such file or directory"; r.Status != ipc.StatusDeferred || r.Reply != want {
		t.Errorf("%+v, want deferred %q", r, want)
	}
}

// The lmtp service reads the lmtp_* parameters, not the smtp_* ones.
func TestLMTPFromConfig(t *testing.T) {
	cfg := loadMainCF(t, "myhostname = mx.test", "smtp_helo_name = smtp.test", "lmtp_lhlo_name = lhlo.test",
		"smtp_tcp_port = 2525", "lmtp_lhlo_timeout = 7s", "smtp_helo_timeout = 9s", "dns_servers = 127.0.0.1:53")
	c, closeAll, err := LMTPFromConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll()
	if !c.LMTP || c.HeloName != "lhlo.test" || c.Port != "24" || c.CommandTimeout.Seconds() != 7 || c.Reuse != true {
		t.Errorf("config %+v", c)
	}
	c, closeAll, err = FromConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll()
	if c.LMTP || c.HeloName != "smtp.test" || c.Port != "2525" || c.CommandTimeout.Seconds() != 9 {
		t.Errorf("smtp config %+v", c)
	}
}
