// procname.go sets the kernel's name of the process (comm: what ps -o comm,
// pgrep, pidof and journald's _COMM show), which re-executing the program
// through /proc/self/exe would otherwise leave as "exe".

package privs

import (
	"fmt"
	"os"
	"path/filepath"
	"unsafe"

	"golang.org/x/sys/unix"
)

// commLen is the kernel's limit on a task name (TASK_COMM_LEN less the NUL).
const commLen = 15

// SetProcessName names every thread of the process name (cut to the
// kernel's 15 bytes). Threads started later inherit the name.
func SetProcessName(name string) error {
	if len(name) > commLen {
		name = name[:commLen]
	}
	// Started under its own name (not re-executed), the process has it on
	// every thread already: a thread inherits the name of the thread that
	// makes it. Asking this thread spares reading and writing /proc.
	var current [commLen + 1]byte
	if unix.Prctl(unix.PR_GET_NAME, uintptr(unsafe.Pointer(&current[0])), 0, 0, 0) == nil && unix.ByteSliceToString(current[:]) == name {
		return nil
	}
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return fmt.Errorf("set process name: %w", err)
	}
	for _, task := range tasks {
		path := filepath.Join("/proc/self/task", task.Name(), "comm")
		if err := os.WriteFile(path, []byte(name), 0); err != nil && !os.IsNotExist(err) {
			return fmt.Errorf("set process name: %w", err)
		}
	}
	return nil
}
