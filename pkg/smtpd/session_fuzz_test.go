// Fuzz test of a whole SMTP session (commands, DATA and BDAT in any order): no panic, every reply a well-formed line, the session ends when the client does.

package smtpd

import (
	"bufio"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"
)

var replyLine = regexp.MustCompile(`^[2-5]\d\d[ -]`)

func FuzzSession(f *testing.F) {
	f.Add("EHLO c\r\nMAIL FROM:<s@r.example>\r\nRCPT TO:<a@test.example>\r\nDATA\r\nSubject: x\r\n\r\nbody\r\n.\r\nQUIT\r\n")
	f.Add("EHLO c\r\nMAIL FROM:<s@r.example>\r\nRCPT TO:<a@test.example>\r\nBDAT 5\r\nabcdeDATA\r\nBDAT 3 LAST\r\nxyz\r\nRSET\r\n")
	f.Add("EHLO c\r\nMAIL FROM:<s@r.example>\r\nRCPT TO:<a@test.example>\r\nDATA\r\nx\r\nBDAT 2\r\n.\r\nBDAT 1 LAST\r\nz")
	f.Add("EHLO c\r\nMAIL FROM:<s@r.example> BODY=BINARYMIME\r\nRCPT TO:<a@test.example>\r\nDATA\r\nBDAT 99999999999999999999\r\n")
	f.Add("HELO evil\rX: y\x00\x1b[31m\r\nMAIL FROM:<>\r\nRCPT TO:<a@test.example>\r\nDATA\r\n.\n\r\n.\r\n")
	f.Add("BDAT 0 LAST\r\nEHLO c\r\nMAIL FROM:<s@r.example>\r\nBDAT 1\r\nx\r\n\r\n\r\nRCPT TO:<a@test.example>\r\nBDAT 0 LAST\r\n")
	f.Fuzz(func(t *testing.T, script string) {
		set := testSettings()
		set.MessageSizeLimit = 4096
		ts := startServer(t, set)
		nc, err := net.Dial("tcp", ts.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		nc.SetDeadline(time.Now().Add(30 * time.Second))
		go func() {
			nc.Write([]byte(script))
			nc.(*net.TCPConn).CloseWrite()
		}()
		br := bufio.NewReader(nc)
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					t.Fatalf("session did not end after the client closed its side")
				}
				break
			}
			if !replyLine.MatchString(line) || !strings.HasSuffix(line, "\r\n") || strings.ContainsAny(strings.TrimSuffix(line, "\r\n"), "\r\n\x00") {
				t.Fatalf("malformed reply line %q", line)
			}
		}
		ts.stop()
		if text := ts.log.Text(); strings.Contains(text, "panic") {
			t.Fatalf("the session panicked:\n%s", text)
		}
	})
}
