// The anvil protocol, server side: one line per request on a Unix stream connection.

package anvil

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// The protocol: the client sends "VERB SERVICE ADDR\n" and reads one reply
// line. "connect" answers "COUNT RATE"; "mail", "rcpt", "newtls" and
// "auth" count the event and answer its rate; "newtls-status" answers the
// new TLS session rate without counting. Anything else gets "error TEXT".
// Every connection counted with "connect" ends when the client closes the
// stream.
const (
	verbConnect      = "connect"
	verbNewTLSStatus = "newtls-status"
)

// maxRequest bounds a request line.
const maxRequest = 1024

// requestTimeout bounds the wait for the next request of a session that
// sent one; a session's stream may otherwise stay silent for as long as
// the SMTP session lasts.
const requestTimeout = time.Hour

// Serve answers the requests on conn until the client closes it, then
// forgets the connections it counted.
func (t *Table) Serve(ctx context.Context, conn net.Conn) {
	var connected [][2]string
	defer func() {
		for _, c := range connected {
			t.Disconnect(c[0], c[1])
		}
	}()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	r := bufio.NewReaderSize(conn, maxRequest)
	for {
		conn.SetReadDeadline(time.Now().Add(requestTimeout))
		line, err := r.ReadSlice('\n')
		if err != nil {
			return
		}
		reply, counted := t.answer(strings.TrimSpace(string(line)))
		if counted != nil {
			connected = append(connected, *counted)
		}
		conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if _, err := conn.Write([]byte(reply + "\n")); err != nil {
			return
		}
	}
}

// answer handles one request line; counted is the service and address of
// a connection it counted.
func (t *Table) answer(line string) (reply string, counted *[2]string) {
	fields := strings.Fields(line)
	if len(fields) != 3 {
		return fmt.Sprintf("error bad request: %.100q", line), nil
	}
	verb, service, addr := fields[0], fields[1], fields[2]
	switch verb {
	case verbConnect:
		count, rate := t.Connect(service, addr)
		return strconv.Itoa(count) + " " + strconv.Itoa(rate), &[2]string{service, addr}
	case verbNewTLSStatus:
		return strconv.Itoa(t.Rate(EventNewTLS, service, addr)), nil
	}
	for ev, v := range eventVerbs {
		if v == verb {
			return strconv.Itoa(t.Count(Event(ev), service, addr)), nil
		}
	}
	return fmt.Sprintf("error unknown request: %.20q", verb), nil
}
