package privs

import (
	"os"
	"strings"
	"testing"
)

func TestSetProcessName(t *testing.T) {
	old, err := os.ReadFile("/proc/self/comm")
	if err != nil {
		t.Skip("no /proc:", err)
	}
	defer SetProcessName(strings.TrimSpace(string(old)))
	if err := SetProcessName("a-name-longer-than-fifteen"); err != nil {
		t.Fatal(err)
	}
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	for _, task := range tasks {
		data, err := os.ReadFile("/proc/self/task/" + task.Name() + "/comm")
		if err != nil {
			continue // the thread has ended
		}
		if got := strings.TrimSpace(string(data)); got != "a-name-longer-t" {
			t.Errorf("task %s: comm = %q", task.Name(), got)
		}
	}
}
