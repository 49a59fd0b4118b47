// procname.go sets the kernel's name of the process (comm: what ps -o comm,
// pgrep, pidof and journald's _COMM show), which re-executing the program
// through /proc/self/exe would otherwise leave as "exe".

package privs

import (
	"fmt"
	"os"
	"path/filepath"
)

// commLen is the kernel's limit on a task name (TASK_COMM_LEN less the NUL).
const commLen = 15

// SetProcessName names every thread of the process name (cut to the
// kernel's 15 bytes). Threads started later inherit the name.
func SetProcessName(name string) error {
	if len(name) > commLen {
		name = name[:commLen]
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
