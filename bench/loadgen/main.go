// Command loadgen is the benchmark's SMTP load client: it sends N messages
// over C concurrent sessions, times each end of DATA to its 250 reply (its
// arrival, stamped by the kernel, and the client's read of it),
// optionally waits until the mail system has delivered everything (an
// empty queue, or N new files in Maildirs), and samples the memory (PSS)
// and CPU of the mail system's process tree meanwhile. It prints one line
// of key=value figures for bench/run.sh.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type options struct {
	addr      string
	messages  int
	sessions  int
	size      int
	perConn   int
	from      string
	to        string
	rcpts     int
	drainDir  string
	maildir   string
	pidFile   string
	timeout   time.Duration
	heloName  string
	sampleGap time.Duration
	steps     bool
}

func main() {
	var o options
	flag.StringVar(&o.addr, "addr", "127.0.0.1:25", "SMTP server `host:port`")
	flag.IntVar(&o.messages, "n", 1000, "messages to send")
	flag.IntVar(&o.sessions, "c", 20, "concurrent sessions")
	flag.IntVar(&o.size, "size", 4096, "message size in bytes, headers included")
	flag.IntVar(&o.perConn, "per-conn", 1, "messages per connection (smtp-source sends 1)")
	flag.StringVar(&o.from, "from", "sender@bench.example", "envelope sender")
	flag.StringVar(&o.to, "to", "rcpt@sink.example", "recipient; %d is replaced by the message number modulo -rcpts")
	flag.IntVar(&o.rcpts, "rcpts", 1, "distinct recipients for %d in -to")
	flag.StringVar(&o.drainDir, "drain-queue", "", "queue `directory` to watch: wait until incoming, active and deferred are empty")
	flag.StringVar(&o.maildir, "drain-maildir", "", "`directory` of Maildirs: wait until N more files are in their new/ directories")
	flag.StringVar(&o.pidFile, "pidfile", "", "master's pid `file`: sample PSS and CPU of its process tree")
	flag.DurationVar(&o.timeout, "timeout", 15*time.Minute, "give up after this long")
	flag.StringVar(&o.heloName, "helo", "loadgen.bench.example", "EHLO name")
	flag.DurationVar(&o.sampleGap, "sample", 200*time.Millisecond, "interval between memory samples")
	flag.BoolVar(&o.steps, "steps", false, "print to stderr, per step of a session (connect, greeting, each command), the time to its reply's arrival: mean, p50, p99")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	var sampler *treeSampler
	if o.pidFile != "" {
		b, err := os.ReadFile(o.pidFile)
		if err != nil {
			return err
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil {
			return fmt.Errorf("%s: %w", o.pidFile, err)
		}
		sampler = newTreeSampler(pid)
		sampler.start(o.sampleGap)
	}
	baseline := 0
	if o.maildir != "" {
		baseline = countMaildir(o.maildir)
	}
	body := message(o.size, o.from)
	start := time.Now()
	lat, err := send(o, body)
	accepted := time.Since(start)
	if err != nil {
		return err
	}
	deadline := start.Add(o.timeout)
	switch {
	case o.drainDir != "":
		for !queueEmpty(o.drainDir) {
			if time.Now().After(deadline) {
				return fmt.Errorf("queue %s not empty after %v", o.drainDir, o.timeout)
			}
			time.Sleep(10 * time.Millisecond)
		}
	case o.maildir != "":
		for countMaildir(o.maildir)-baseline < o.messages {
			if time.Now().After(deadline) {
				return fmt.Errorf("%s: %d of %d messages delivered after %v", o.maildir, countMaildir(o.maildir)-baseline, o.messages, o.timeout)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	total := time.Since(start)
	slices.Sort(lat.stamped)
	slices.Sort(lat.read)
	fmt.Printf("messages=%d sessions=%d size=%d accept_s=%.3f total_s=%.3f accept_rate=%.1f rate=%.1f p50_ms=%.2f p99_ms=%.2f read_p50_ms=%.2f read_p99_ms=%.2f",
		o.messages, o.sessions, o.size, accepted.Seconds(), total.Seconds(),
		float64(o.messages)/accepted.Seconds(), float64(o.messages)/total.Seconds(),
		ms(percentile(lat.stamped, 0.50)), ms(percentile(lat.stamped, 0.99)),
		ms(percentile(lat.read, 0.50)), ms(percentile(lat.read, 0.99)))
	if o.steps {
		steps.print(os.Stderr)
	}
	if sampler != nil {
		peak, cpu := sampler.stop()
		fmt.Printf(" peak_pss_mb=%.1f cpu_ms_per_msg=%.3f", float64(peak)/1024, cpu.Seconds()*1000/float64(o.messages))
	}
	fmt.Println()
	return nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p*float64(len(sorted))+0.5) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// message builds one message of about size bytes, headers included, in
// lines of at most 78 characters, without the terminating dot.
func message(size int, from string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "From: <%s>\r\nTo: <rcpt@bench.example>\r\nSubject: bench\r\nMessage-Id: <%%ID%%@bench.example>\r\n\r\n", from)
	line := strings.Repeat("abcdefghijklmnopqrstuvwxyz0123456789", 2)[:70] + "\r\n"
	for b.Len()+len(line) <= size {
		b.WriteString(line)
	}
	if n := size - b.Len(); n > 2 {
		b.WriteString(line[:n-2] + "\r\n")
	}
	return []byte(b.String())
}

// latencies are the accept latencies of the messages sent: from the
// client's write of the end of DATA to the arrival of the 250 reply in
// the kernel (stamped), and to the client's read of it (read), which adds
// the time the session's goroutine waited for a CPU.
type latencies struct {
	stamped, read []time.Duration
}

// send runs the sessions and returns the accept latency of every message.
func send(o options, body []byte) (latencies, error) {
	var next atomic.Int64
	var mu sync.Mutex
	var all latencies
	var firstErr error
	var wg sync.WaitGroup
	for range o.sessions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine latencies
			err := session(o, body, &next, &mine)
			mu.Lock()
			all.stamped = append(all.stamped, mine.stamped...)
			all.read = append(all.read, mine.read...)
			if err != nil && firstErr == nil {
				firstErr = err
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return latencies{}, firstErr
	}
	return all, nil
}

// session sends messages until none is left, perConn per connection.
func session(o options, body []byte, next *atomic.Int64, lat *latencies) error {
	for {
		if next.Load() >= int64(o.messages) {
			return nil
		}
		if err := connection(o, body, next, lat); err != nil {
			return err
		}
	}
}

func connection(o options, body []byte, next *atomic.Int64, lat *latencies) error {
	dialed := time.Now()
	nc, err := net.DialTimeout("tcp", o.addr, 30*time.Second)
	if err != nil {
		return err
	}
	connected := time.Now()
	steps.add("connect", connected.Sub(dialed))
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(o.timeout))
	sc, err := newStampedConn(nc)
	if err != nil {
		return err
	}
	r := bufio.NewReader(sc)
	w := bufio.NewWriterSize(nc, 64<<10)
	if err := expect(r, 220); err != nil {
		return fmt.Errorf("greeting: %w", err)
	}
	steps.add("greeting", sc.last.Sub(connected))
	cmd := func(line string, code int) error {
		sent := time.Now()
		defer func() { steps.add(strings.Fields(line)[0], sc.last.Sub(sent)) }()
		if _, err := w.WriteString(line + "\r\n"); err != nil {
			return err
		}
		if err := w.Flush(); err != nil {
			return err
		}
		if err := expect(r, code); err != nil {
			return fmt.Errorf("%s: %w", strings.Fields(line)[0], err)
		}
		return nil
	}
	if err := cmd("EHLO "+o.heloName, 250); err != nil {
		return err
	}
	for range o.perConn {
		n := next.Add(1) - 1
		if n >= int64(o.messages) {
			break
		}
		to := o.to
		if strings.Contains(to, "%d") {
			to = strings.ReplaceAll(to, "%d", strconv.FormatInt(n%int64(max(o.rcpts, 1)), 10))
		}
		if err := cmd("MAIL FROM:<"+o.from+">", 250); err != nil {
			return err
		}
		if err := cmd("RCPT TO:<"+to+">", 250); err != nil {
			return err
		}
		if err := cmd("DATA", 354); err != nil {
			return err
		}
		id := []byte(fmt.Sprintf("%08d", n))
		for chunk := body; len(chunk) > 0; {
			i := strings.Index(string(chunk[:min(len(chunk), 4096)]), "%ID%")
			if i < 0 {
				end := min(len(chunk), 64<<10)
				if _, err := w.Write(chunk[:end]); err != nil {
					return err
				}
				chunk = chunk[end:]
				continue
			}
			w.Write(chunk[:i])
			w.Write(id)
			chunk = chunk[i+4:]
		}
		if err := w.Flush(); err != nil {
			return err
		}
		t0 := time.Now()
		if err := cmd(".", 250); err != nil {
			return fmt.Errorf("end of data: %w", err)
		}
		read := time.Since(t0)
		lat.read = append(lat.read, read)
		lat.stamped = append(lat.stamped, min(max(sc.last.Sub(t0), 0), read))
	}
	return cmd("QUIT", 221)
}

// expect reads one (multi-line) reply and checks its code.
func expect(r *bufio.Reader, code int) error {
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return err
		}
		if len(line) < 4 {
			return fmt.Errorf("short reply %q", line)
		}
		if line[3] == '-' {
			continue
		}
		if got, _ := strconv.Atoi(line[:3]); got != code {
			return fmt.Errorf("reply %q, want %d", strings.TrimSpace(line), code)
		}
		return nil
	}
}

// queueEmpty reports whether incoming, active and deferred hold no
// message. A file in incoming/ without the owner's execute bit is not one
// (yet): a file being written, or a Postern cleanup's reserved file,
// which it gives back only a second after the last message.
func queueEmpty(dir string) bool {
	for _, q := range []string{"incoming", "active", "deferred"} {
		empty := true
		filepath.WalkDir(filepath.Join(dir, q), func(_ string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			if q == "incoming" {
				if info, err := d.Info(); err != nil || info.Mode().Perm()&0o100 == 0 {
					return nil
				}
			}
			empty = false
			return io.EOF
		})
		if !empty {
			return false
		}
	}
	return true
}

// countMaildir counts the files in the new/ directories of the Maildirs
// directly under dir.
func countMaildir(dir string) int {
	entries, _ := filepath.Glob(filepath.Join(dir, "*", "new", "*"))
	return len(entries)
}

// stepTimes collects, per step of a session, the time from the client's
// request (or connect) to the arrival of the server's reply.
type stepTimes struct {
	mu    sync.Mutex
	order []string
	times map[string][]time.Duration
}

var steps = stepTimes{times: make(map[string][]time.Duration)}

func (s *stepTimes) add(step string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.times[step]; !ok {
		s.order = append(s.order, step)
	}
	s.times[step] = append(s.times[step], max(d, 0))
}

// print writes one line per step, in the order the steps first came.
func (s *stepTimes) print(w io.Writer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, step := range s.order {
		t := s.times[step]
		slices.Sort(t)
		var sum time.Duration
		for _, d := range t {
			sum += d
		}
		fmt.Fprintf(w, "step %s n=%d mean_ms=%.2f p50_ms=%.2f p99_ms=%.2f\n", step, len(t),
			ms(sum/time.Duration(len(t))), ms(percentile(t, 0.50)), ms(percentile(t, 0.99)))
	}
}
