// Tests of the profiles and memory figures written at a daemon's stop.

package profile

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestStartWritesEveryProfile(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(EnvDir, dir)
	stop := Start("testd", t.Errorf)
	stop()
	for _, kind := range []string{"cpu", "heap", "allocs", "block", "mutex"} {
		matches, _ := filepath.Glob(filepath.Join(dir, "testd.*."+kind+".pprof"))
		if len(matches) != 1 {
			t.Errorf("%s profile: found %v", kind, matches)
			continue
		}
		if st, err := os.Stat(matches[0]); err != nil || st.Size() == 0 {
			t.Errorf("%s profile empty or missing: %v", kind, err)
		}
	}
}

func TestStartWritesTheMemoryFigures(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(EnvDir, dir)
	Start("testd", t.Errorf)()
	b, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("testd.%d.memory.txt", os.Getpid())))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"/gc/heap/live:bytes ", "/gc/heap/goal:bytes ", "/memory/classes/heap/released:bytes ", "/sched/goroutines:goroutines "} {
		if !strings.Contains(string(b), "\n"+name) && !strings.HasPrefix(string(b), name) {
			t.Errorf("memory.txt has no %q line:\n%s", name, b)
		}
	}
}

func TestMemoryOnlyWritesNoProfile(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(EnvDir, dir)
	t.Setenv(EnvMemoryOnly, "1")
	Start("testd", t.Errorf)()
	matches, _ := filepath.Glob(filepath.Join(dir, "testd.*"))
	if len(matches) != 1 || !strings.HasSuffix(matches[0], ".memory.txt") {
		t.Errorf("files written: %v, want only the memory figures", matches)
	}
}
