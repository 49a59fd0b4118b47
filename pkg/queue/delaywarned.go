// The mark of a message whose sender got its delayed-mail warning.

package queue

import (
	"fmt"
	"os"
)

// modeDelayWarned marks a queue file whose delay warning was sent (the
// others' execute bit), so that the sender gets one warning only.
const modeDelayWarned os.FileMode = 0o001

// SetDelayWarned marks the queue file at path as warned.
func SetDelayWarned(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("mark delay warning sent: %w", err)
	}
	if err := os.Chmod(path, st.Mode().Perm()|modeDelayWarned); err != nil {
		return fmt.Errorf("mark delay warning sent: %w", err)
	}
	return nil
}

// ModeDelayWarned reports whether a queue file's mode says its delay
// warning was sent.
func ModeDelayWarned(mode os.FileMode) bool {
	return mode.Perm()&modeDelayWarned != 0
}
