// Serving a unix-dgram service (postlogd): the handler reads the socket until a signal or master's exit closes it.

package daemon

import (
	"context"
	"net"
	"os"
	"syscall"
	"time"

	"github.com/postern/postern/pkg/maillog"
)

// serveDatagrams runs serve on conn until SIGHUP or SIGTERM, until master
// is gone, or until serve fails, and returns the exit status.
func serveDatagrams(d *daemonState, serve func(context.Context, net.PacketConn) error, conn net.PacketConn, signals <-chan os.Signal) int {
	defer d.cancel()
	done := make(chan error, 1)
	go func() { done <- serve(d.ctx, conn) }()
	select {
	case err := <-done:
		if err != nil {
			d.Log.Log(maillog.LevelFatal, err.Error())
			return 1
		}
		return 0
	case sig := <-signals:
		d.Verbosef("signal %v received -- exiting", sig)
		if sig != syscall.SIGHUP {
			d.cancel()
		}
		conn.Close()
	case <-d.masterGone:
		d.Verbosef("master disconnect -- exiting")
		d.cancel()
		conn.Close()
	}
	select {
	case err := <-done:
		if err != nil {
			d.Log.Log(maillog.LevelFatal, err.Error())
			return 1
		}
	case <-time.After(termGrace):
	}
	return 0
}
