// Benchmark of concurrent durable commits.

package queue

import (
	"strings"
	"testing"
)

// BenchmarkCommitParallel measures durable commits of 4 KB messages from
// concurrent writers, the cleanup pattern that group commit speeds up.
func BenchmarkCommitParallel(b *testing.B) {
	l := newTestLayout(b)
	content := strings.Repeat(strings.Repeat("x", 76)+"\r\n", 52)
	env := testEnvelope()
	b.SetParallelism(10)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			writeMessage(b, l, Incoming, env, content)
		}
	})
	b.ReportMetric(float64(l.syncer.Syncs())/float64(b.N), "dirsyncs/op")
}
