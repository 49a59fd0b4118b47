// Benchmark of concurrent durable commits.

package queue

import (
	"io"
	"strings"
	"testing"
)

// BenchmarkCommitParallel measures durable commits of 4 KB messages from
// concurrent writers, the cleanup pattern that group commit speeds up.
func BenchmarkCommitParallel(b *testing.B) {
	l := NewLayout(b.TempDir(), []string{"deferred", "defer"}, 1, false)
	if err := l.MakeDirs(); err != nil {
		b.Fatal(err)
	}
	content := strings.Repeat(strings.Repeat("x", 76)+"\r\n", 52)
	env := testEnvelope()
	b.SetParallelism(10)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			w, err := l.Create(Incoming)
			if err != nil {
				b.Fatal(err)
			}
			if err := w.WriteEnvelope(env); err != nil {
				b.Fatal(err)
			}
			if _, err := io.WriteString(w, content); err != nil {
				b.Fatal(err)
			}
			if err := w.Commit(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.ReportMetric(float64(l.syncer.Syncs())/float64(b.N), "dirsyncs/op")
}
