package main

import (
	"bytes"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestZZRandomDiff(t *testing.T) {
	words := []string{"-o", "-v", "-D", "--", "-vo", "a=b", "{x y}", "{ a = b c }", "-oa=1", "-o{b=2}", "{}", "{ p  q }", "zz", "long_word_aaaaaaaaaaaaaaaaaaaa", "x=y", "-o", "-o", "$name", "c=", "{c=d e}", "-Dv", "-o", "{a b", "{a}b", "w{x y}z"}
	names := []string{"smtp", "a", "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn", "127.0.0.1:25", "abcdefghijklmno"}
	types := []string{"inet", "unix", "unix-dgram", "fifo", "pass"}
	yn := []string{"-", "y", "n"}
	wake := []string{"-", "0", "60", "1000?", "0?", "123456789"}
	maxp := []string{"-", "0", "1", "100", "12345678901"}
	for round := 0; round < 4; round++ {
		r := rand.New(rand.NewSource(int64(round)))
		var b strings.Builder
		for i := 0; i < 40; i++ {
			fmt.Fprintf(&b, "%s %s %s %s %s %s %s cmd%d", names[r.Intn(len(names))], types[r.Intn(len(types))], yn[r.Intn(3)], yn[r.Intn(3)], yn[r.Intn(3)], wake[r.Intn(len(wake))], maxp[r.Intn(len(maxp))], i)
			n := r.Intn(12)
			for j := 0; j < n; j++ {
				if r.Intn(5) == 0 {
					b.WriteString("\n   ")
				}
				b.WriteString(" " + words[r.Intn(len(words))])
			}
			b.WriteString("\n")
		}
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "master.cf"), []byte(b.String()), 0o644)
		os.WriteFile(filepath.Join(dir, "main.cf"), nil, 0o644)
		for _, mode := range []byte{'M', 'F', 'P'} {
			for _, fold := range []bool{false, true} {
				flag := "-" + string(mode)
				if fold {
					flag += "f"
				}
				cmd := exec.Command("/usr/sbin/postconf", "-c", dir, flag)
				cmd.Args[0] = "postconf"
				var so, se bytes.Buffer
				cmd.Stdout, cmd.Stderr = &so, &se
				cmd.Run()
				var mine, mineErr bytes.Buffer
				masterWarnings = &mineErr
				err := printMasterCF(&mine, dir, mode, fold, nil)
				if err != nil {
					mineErr.WriteString("postconf: fatal: " + err.Error() + "\n")
				}
				var realErr strings.Builder
				for _, l := range strings.SplitAfter(se.String(), "\n") {
					if !strings.Contains(l, "unused parameter") {
						realErr.WriteString(l)
					}
				}
				if so.String() != mine.String() {
					os.WriteFile("/tmp/mcf.PLPp/real.out", so.Bytes(), 0o644)
					os.WriteFile("/tmp/mcf.PLPp/mine.out", mine.Bytes(), 0o644)
					os.WriteFile("/tmp/mcf.PLPp/in.cf", []byte(b.String()), 0o644)
					t.Fatalf("round %d %s stdout differs", round, flag)
				}
				if realErr.String() != mineErr.String() {
					t.Fatalf("round %d %s stderr differs:\n%s\n---\n%s", round, flag, realErr.String(), mineErr.String())
				}
			}
		}
	}
}
