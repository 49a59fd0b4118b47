// Which files of incoming/ changed since the last scan, from inotify: a
// scan stats those instead of every file there.

package qmgr

import (
	"bytes"
	"encoding/binary"
	"sort"

	"golang.org/x/sys/unix"
)

// incomingWatch follows incoming/ with inotify. A queue file becomes
// ready for qmgr by a chmod (cleanup's commit, also of the reserved files
// it names ahead of need), a rename into incoming/ (postsuper -r, a
// commit that renames) or a create, and each of these leaves an event
// with the file's name before the trigger that follows it is sent. So a
// scan after a trigger needs to look only at the names the events give:
// with cleanup's reserved files (dozens to hundreds of empty files,
// never ready) in incoming/, a scan of every file cost a stat for each
// of them, dozens of system calls a message. When the kernel dropped
// events (its queue overflowed) or the watch ended, changed says so and
// the scan looks at everything, as without the watch.
type incomingWatch struct {
	fd  int
	buf []byte
	// broken: the watch ended (directory removed); every scan is full.
	broken bool
}

// incomingEvents are the events that can make a file ready.
const incomingEvents = unix.IN_ATTRIB | unix.IN_MOVED_TO | unix.IN_CREATE

// watchIncoming starts watching dir; nil when inotify is not available.
func watchIncoming(dir string) *incomingWatch {
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		return nil
	}
	if _, err := unix.InotifyAddWatch(fd, dir, incomingEvents|unix.IN_DELETE_SELF|unix.IN_MOVE_SELF|unix.IN_ONLYDIR); err != nil {
		unix.Close(fd)
		return nil
	}
	return &incomingWatch{fd: fd, buf: make([]byte, 16<<10)}
}

// changed returns, sorted and each once, the names of the files that had
// an event since the last call. complete is false when events may have
// been lost: the caller must look at every file.
func (w *incomingWatch) changed() (names []string, complete bool) {
	seen := map[string]bool{}
	complete = !w.broken
	for {
		n, err := unix.Read(w.fd, w.buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil || n <= 0 {
			// EAGAIN: nothing more. Any other failure: events may be
			// missing.
			if err != unix.EAGAIN {
				complete = false
			}
			break
		}
		for b := w.buf[:n]; len(b) >= unix.SizeofInotifyEvent; {
			mask := binary.NativeEndian.Uint32(b[4:8])
			size := int(binary.NativeEndian.Uint32(b[12:16]))
			end := unix.SizeofInotifyEvent + size
			if end > len(b) {
				complete = false
				break
			}
			name := b[unix.SizeofInotifyEvent:end]
			if i := bytes.IndexByte(name, 0); i >= 0 {
				name = name[:i]
			}
			b = b[end:]
			switch {
			case mask&unix.IN_Q_OVERFLOW != 0:
				complete = false
			case mask&(unix.IN_IGNORED|unix.IN_DELETE_SELF|unix.IN_MOVE_SELF|unix.IN_UNMOUNT) != 0:
				w.broken, complete = true, false
			case len(name) > 0 && !seen[string(name)]:
				seen[string(name)] = true
				names = append(names, string(name))
			}
		}
	}
	sort.Strings(names)
	return names, complete
}

func (w *incomingWatch) close() { unix.Close(w.fd) }
