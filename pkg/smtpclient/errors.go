// Connection failure texts as Postfix words them.

package smtpclient

import (
	"errors"
	"net"
	"os"
	"syscall"
)

// connectReason turns a dial error into Postfix's wording.
func connectReason(err error) string {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "Connection refused"
	case errors.Is(err, syscall.EHOSTUNREACH):
		return "No route to host"
	case errors.Is(err, syscall.ENETUNREACH):
		return "Network is unreachable"
	case errors.Is(err, syscall.ENOENT):
		return "No such file or directory"
	case errors.Is(err, syscall.EACCES):
		return "Permission denied"
	case errors.Is(err, os.ErrDeadlineExceeded):
		return "Connection timed out"
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "Connection timed out"
	}
	return err.Error()
}
