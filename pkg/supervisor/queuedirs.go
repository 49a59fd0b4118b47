// The queue directory layout: creating missing directories and checking owners and modes as `postfix check` does.

package supervisor

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/postern/postern/pkg/queue"
)

// dirOwner says who owns a queue subdirectory.
type dirOwner int

const (
	ownedByRoot      dirOwner = iota // root (the user running master when not root)
	ownedByMailOwner                 // mail_owner
)

// queueSubdir is one directory under queue_directory.
type queueSubdir struct {
	Name  string
	Mode  fs.FileMode
	Owner dirOwner
	// SetgidGroup: the directory's group is setgid_group (postdrop).
	SetgidGroup bool
}

// queueLayout lists queue_directory's subdirectories with the owners and
// modes Postfix's post-install gives them.
var queueLayout = []queueSubdir{
	{Name: "active", Mode: 0o700, Owner: ownedByMailOwner},
	{Name: "bounce", Mode: 0o700, Owner: ownedByMailOwner},
	{Name: "corrupt", Mode: 0o700, Owner: ownedByMailOwner},
	{Name: "defer", Mode: 0o700, Owner: ownedByMailOwner},
	{Name: "deferred", Mode: 0o700, Owner: ownedByMailOwner},
	{Name: "flush", Mode: 0o700, Owner: ownedByMailOwner},
	{Name: "hold", Mode: 0o700, Owner: ownedByMailOwner},
	{Name: "incoming", Mode: 0o700, Owner: ownedByMailOwner},
	{Name: "maildrop", Mode: 0o730, Owner: ownedByMailOwner, SetgidGroup: true},
	{Name: "pid", Mode: 0o755, Owner: ownedByRoot},
	{Name: "private", Mode: 0o700, Owner: ownedByMailOwner},
	{Name: "public", Mode: 0o710, Owner: ownedByMailOwner, SetgidGroup: true},
	{Name: "saved", Mode: 0o700, Owner: ownedByMailOwner},
	{Name: "trace", Mode: 0o700, Owner: ownedByMailOwner},
}

// masterSubdirs are the directories master itself needs.
var masterSubdirs = map[string]bool{"pid": true, "private": true, "public": true}

// CreateQueueDirs creates queue_directory, data_directory and every missing
// queue subdirectory with Postfix's owners and modes (owned by the current
// user when not root). Existing directories are left as they are.
func CreateQueueDirs(s Settings, o Owner) error {
	return createDirs(s, o, func(string) bool { return true })
}

// createMasterDirs creates only what master needs to start: the queue
// directory, pid/, private/ and public/, and Postern's spare/.
func createMasterDirs(s Settings, o Owner) error {
	if err := createDirs(s, o, func(name string) bool { return masterSubdirs[name] }); err != nil {
		return err
	}
	return makeDir(filepath.Join(s.QueueDir, queue.Spare), 0o700, o.UID, 0, o)
}

func createDirs(s Settings, o Owner, wanted func(string) bool) error {
	if err := makeDir(s.QueueDir, 0o755, 0, 0, o); err != nil {
		return err
	}
	for _, d := range queueLayout {
		if !wanted(d.Name) {
			continue
		}
		uid, gid := d.owner(o)
		if err := makeDir(filepath.Join(s.QueueDir, d.Name), d.Mode, uid, gid, o); err != nil {
			return err
		}
	}
	if s.DataDir != "" && wanted("data") {
		return makeDir(s.DataDir, 0o700, o.UID, o.GID, o)
	}
	return nil
}

// owner returns the uid and gid a subdirectory gets when master is root.
func (d queueSubdir) owner(o Owner) (uid, gid int) {
	uid, gid = 0, 0
	if d.Owner == ownedByMailOwner {
		uid = o.UID
	}
	if d.SetgidGroup {
		gid = o.SetgidGID
	}
	return uid, gid
}

// makeDir creates path with mode (exactly, umask aside) and, when
// privileged, gives it to uid:gid. An existing path is left alone.
func makeDir(path string, mode fs.FileMode, uid, gid int, o Owner) error {
	if _, err := os.Lstat(path); err == nil {
		return nil
	}
	if err := os.MkdirAll(path, mode); err != nil {
		return fmt.Errorf("create directory %s: %w", path, err)
	}
	if o.Privileged {
		if err := os.Chown(path, uid, gid); err != nil {
			return fmt.Errorf("chown %s: %w", path, err)
		}
	}
	if err := os.Chmod(path, mode); err != nil {
		return fmt.Errorf("chmod %s: %w", path, err)
	}
	return nil
}

// CheckQueueDirs returns `postfix check`'s warnings about owners and
// permissions, worded as Postfix words them ("not owned by postfix: PATH",
// "group or other writable: PATH", "not owned by group postdrop: PATH").
// When not root, every directory is expected to belong to the current user
// and group ownership is not checked.
func CheckQueueDirs(s Settings, o Owner) []string {
	var warnings []string
	rootName := "root"
	rootUID := 0
	if !o.Privileged {
		rootName, rootUID = o.OwnerName, o.UID
	}
	for _, p := range []string{s.QueueDir + "/.", filepath.Join(s.QueueDir, "pid")} {
		st, ok := statOwner(p)
		if !ok {
			continue
		}
		if st.uid != rootUID {
			warnings = append(warnings, "not owned by "+rootName+": "+p)
		}
		if st.mode&0o022 != 0 {
			warnings = append(warnings, "group or other writable: "+p)
		}
	}
	if s.DataDir != "" {
		p := s.DataDir + "/."
		if st, ok := statOwner(p); ok {
			if st.uid != o.UID {
				warnings = append(warnings, "not owned by "+o.OwnerName+": "+p)
			}
			if st.mode&0o022 != 0 {
				warnings = append(warnings, "group or other writable: "+p)
			}
		}
	}
	for _, d := range queueLayout {
		if d.Owner != ownedByMailOwner {
			continue
		}
		p := filepath.Join(s.QueueDir, d.Name)
		st, ok := statOwner(p)
		if !ok {
			continue
		}
		if st.uid != o.UID {
			warnings = append(warnings, "not owned by "+o.OwnerName+": "+p)
		}
		if d.SetgidGroup && o.Privileged && st.gid != o.SetgidGID {
			warnings = append(warnings, "not owned by group "+o.SetgidGroup+": "+p)
		}
	}
	return warnings
}

type fileOwner struct {
	uid, gid int
	mode     fs.FileMode
}

// statOwner returns path's owner and permission bits; ok is false when
// path does not exist or is not a directory reachable by stat.
func statOwner(path string) (fileOwner, bool) {
	fi, err := os.Stat(path)
	if err != nil {
		return fileOwner{}, false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileOwner{}, false
	}
	return fileOwner{uid: int(st.Uid), gid: int(st.Gid), mode: fi.Mode().Perm()}, true
}
