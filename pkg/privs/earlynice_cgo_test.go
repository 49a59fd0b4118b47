//go:build cgo

package privs

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// niceOfThreads returns the nice value of every thread of this process.
func niceOfThreads() ([]int, error) {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return nil, err
	}
	var nice []int
	for _, task := range tasks {
		var tid int
		if _, err := fmt.Sscanf(task.Name(), "%d", &tid); err != nil {
			return nil, err
		}
		// getpriority returns 20 - nice for a thread id.
		prio, err := unix.Getpriority(unix.PRIO_PROCESS, tid)
		if err != nil {
			continue // the thread ended
		}
		nice = append(nice, 20-prio)
	}
	return nice, nil
}

// TestEarlyNice runs this test binary again with and without master's
// request: asked by master, every thread of the daemon runs at its nice
// value plus the number asked for; otherwise at its own.
func TestEarlyNice(t *testing.T) {
	if os.Getenv("PRIVS_TEST_NICE_CHILD") == "1" {
		nice, err := niceOfThreads()
		if err != nil {
			t.Fatal(err)
		}
		fmt.Printf("nice:%s\n", strings.Trim(fmt.Sprint(nice), "[]"))
		return
	}
	own, err := niceOfThreads()
	if err != nil || len(own) == 0 {
		t.Skipf("no thread nice values here: %v", err)
	}
	base := own[0]
	if base+5 > 19 {
		t.Skipf("nice %d already", base)
	}
	for _, tt := range []struct {
		env  []string
		want int
	}{
		{[]string{"POSTERN_MASTER=1", EarlyNiceEnv + "=5"}, base + 5},
		{[]string{EarlyNiceEnv + "=5"}, base}, // not started by master
		{[]string{"POSTERN_MASTER=1", EarlyNiceEnv + "=x"}, base},
		{[]string{"POSTERN_MASTER=1"}, base},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestEarlyNice$")
		cmd.Env = append(os.Environ(), append(tt.env, "PRIVS_TEST_NICE_CHILD=1")...)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("environment %q: %v\n%s", tt.env, err, out)
		}
		_, line, _ := strings.Cut(string(out), "nice:")
		line, _, _ = strings.Cut(line, "\n")
		values := strings.Fields(line)
		if len(values) < 2 {
			t.Fatalf("environment %q: output %q: want the nice values of more than one thread", tt.env, out)
		}
		for _, v := range values {
			if v != strconv.Itoa(tt.want) {
				t.Errorf("environment %q: thread nice values %q, want all %d", tt.env, values, tt.want)
				break
			}
		}
	}
}
