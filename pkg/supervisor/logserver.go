// postlogd inside master: the public/postlog socket that chrooted daemons log through.
package supervisor

import (
	"fmt"
	"net"

	"github.com/postern/postern/pkg/maillog"
	"github.com/postern/postern/pkg/mastercf"
)

// logServer is the postlog service master runs itself.
type logServer struct {
	server *maillog.LogServer
	conn   net.PacketConn
}

// startLogServer serves e's unix-dgram socket when maillog_file is set;
// with syslog logging there is nothing to serve.
func (s *Supervisor) startLogServer(e *mastercf.Entry) error {
	if e.Type != mastercf.TypeUnixDgram || s.settings.MaillogFile == "" || s.logSrv != nil {
		return nil
	}
	server, err := maillog.NewLogServer(s.settings.MaillogFile, s.settings.MaillogPrefixes)
	if err != nil {
		return err
	}
	conn, err := listenUnixgram(s.settings.QueueDir+"/"+e.SocketPath(), s.owner)
	if err != nil {
		server.Close()
		return err
	}
	s.logSrv = &logServer{server: server, conn: conn}
	go func() {
		if err := server.Serve(conn); err != nil {
			s.log.Warning("postlogd: %v", err)
		}
	}()
	return nil
}

// reopenLog makes master's log and postlogd reopen maillog_file after
// `postfix logrotate` renamed it.
func (s *Supervisor) reopenLog() error {
	if err := s.log.Reopen(); err != nil {
		return fmt.Errorf("reopen %s: %w", s.settings.MaillogFile, err)
	}
	if s.logSrv != nil {
		return s.logSrv.server.Reopen()
	}
	return nil
}

// stopLogServer closes the postlog socket and the file behind it.
func (s *Supervisor) stopLogServer() {
	if s.logSrv == nil {
		return
	}
	s.logSrv.conn.Close()
	s.logSrv.server.Close()
	s.logSrv = nil
}
