// Command qmgrmem measures the queue manager's memory per message in the
// active queue: it queues N messages in a throw-away queue, runs
// pkg/qmgr's Manager against a delivery agent that accepts requests and
// never answers (a stalled agent), waits until every message is active,
// and prints the growth of the Go heap, the goroutine stacks and the
// process's RSS per active message. With -drain it then lets the agent
// answer and prints the CPU time per message of emptying the queue. With
// -flow the agent answers at once instead, and it prints the CPU time per
// message of delivering them all, the queue manager's usual work.
//
//	go run ./bench/qmgrmem -n 10000 -domains 1
//	go run ./bench/qmgrmem -n 10000 -flow
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/postern/postern/pkg/config"
	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/qmgr"
	"github.com/postern/postern/pkg/queue"
	"github.com/postern/postern/pkg/resolve"
)

func main() {
	n := flag.Int("n", 10000, "messages to queue")
	domains := flag.Int("domains", 1, "recipient domains (destinations), spread round robin")
	rcpts := flag.Int("rcpts", 1, "recipients per message")
	drain := flag.Bool("drain", false, "then let the agent answer and time emptying the queue")
	flow := flag.Bool("flow", false, "no stall: time delivering the messages with an agent that answers at once")
	flag.StringVar(&heapProfile, "heapprofile", "", "write a heap profile with the queue full to this file")
	timeout := flag.Duration("timeout", 10*time.Minute, "give up after this long")
	flag.Parse()
	var err error
	if *flow {
		err = runFlow(*n, *domains, *rcpts, *timeout)
	} else {
		err = run(*n, *domains, *rcpts, *drain, *timeout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "qmgrmem:", err)
		os.Exit(1)
	}
}

var heapProfile string

func run(n, domains, rcpts int, drain bool, timeout time.Duration) error {
	mgr, agent, done, err := queued(n, domains, rcpts)
	if err != nil {
		return err
	}
	defer done()
	log := mgr.Log.(*countingLog)

	before := sample()
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- mgr.Run(ctx) }()
	stop := func() error {
		cancel()
		agent.release()
		return <-ran
	}
	deadline := time.Now().Add(timeout)
	// Every message is active once each has logged its "queue active"
	// line and the stalled agent has stopped receiving requests.
	last, quiet := int64(-1), 0
	for log.active.Load() < int64(n) || quiet < 5 {
		if time.Now().After(deadline) {
			stop()
			return fmt.Errorf("%d of %d messages active after %v", log.active.Load(), n, timeout)
		}
		time.Sleep(100 * time.Millisecond)
		if r := agent.requests.Load(); r == last {
			quiet++
		} else {
			last, quiet = r, 0
		}
	}
	held := rss() // as the process holds it, garbage and all
	live := sample()
	if heapProfile != "" {
		if err := writeHeapProfile(heapProfile); err != nil {
			stop()
			return err
		}
	}
	fmt.Printf("messages=%d domains=%d rcpts=%d active=%d stalled_requests=%d\n", n, domains, rcpts, mgr.ActiveCount(), agent.requests.Load())
	fmt.Printf("per_active_message: heap_live=%.0f B stack=%.0f B heap_plus_stack=%.0f B rss_after_gc=%.0f B rss=%.0f B goroutines=%.3f\n",
		per(live.heapAlloc-before.heapAlloc, n), per(live.stack-before.stack, n),
		per(live.heapAlloc+live.stack-before.heapAlloc-before.stack, n),
		per(live.rss-before.rss, n), per(held-before.rss, n), per(int64(live.goroutines-before.goroutines), n))
	fmt.Printf("totals: rss_before=%.1f MB rss_active=%.1f MB (%.1f MB after a collection) heap_live=%.1f MB stack=%.1f MB\n",
		mb(before.rss), mb(held), mb(live.rss), mb(live.heapAlloc), mb(live.stack))
	if !drain {
		return stop()
	}
	cpu0 := cpuTime()
	start := time.Now()
	agent.release()
	for log.removed.Load() < int64(n) {
		if time.Now().After(deadline) {
			stop()
			return fmt.Errorf("%d of %d messages delivered after %v", log.removed.Load(), n, timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
	elapsed, cpu := time.Since(start), cpuTime()-cpu0
	fmt.Printf("drain: %.1f s, %.0f msg/s, cpu_ms_per_msg=%.3f (qmgr and the stand-in agent)\n",
		elapsed.Seconds(), float64(n)/elapsed.Seconds(), float64(cpu.Microseconds())/1000/float64(n))
	return stop()
}

// runFlow delivers n queued messages through an agent that answers at
// once and prints the CPU time per message.
func runFlow(n, domains, rcpts int, timeout time.Duration) error {
	mgr, agent, done, err := queued(n, domains, rcpts)
	if err != nil {
		return err
	}
	defer done()
	agent.release()
	log := mgr.Log.(*countingLog)
	runtime.GC()
	cpu0, start := cpuTime(), time.Now()
	ctx, cancel := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- mgr.Run(ctx) }()
	deadline := start.Add(timeout)
	for log.removed.Load() < int64(n) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	elapsed, cpu := time.Since(start), cpuTime()-cpu0
	cancel()
	if err := <-ran; err != nil {
		return err
	}
	if got := log.removed.Load(); got < int64(n) {
		return fmt.Errorf("%d of %d messages delivered after %v", got, n, timeout)
	}
	fmt.Printf("flow: messages=%d domains=%d rcpts=%d %.1f s, %.0f msg/s, cpu_ms_per_msg=%.3f (qmgr and the stand-in agent)\n",
		n, domains, rcpts, elapsed.Seconds(), float64(n)/elapsed.Seconds(), float64(cpu.Microseconds())/1000/float64(n))
	return nil
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.WriteHeapProfile(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func per(v int64, n int) float64 { return float64(v) / float64(n) }
func mb(v int64) float64         { return float64(v) / (1 << 20) }

// queued sets up a queue manager and its stalled agent in a directory of
// their own and queues n messages; done closes the agent and removes the
// directory.
func queued(n, domains, rcpts int) (mgr *qmgr.Manager, agent *stalledAgent, done func(), err error) {
	root, err := os.MkdirTemp("", "qmgrmem")
	if err != nil {
		return nil, nil, nil, err
	}
	if mgr, agent, err = setup(root); err != nil {
		os.RemoveAll(root)
		return nil, nil, nil, err
	}
	done = func() {
		agent.close()
		os.RemoveAll(root)
	}
	if err := fill(mgr.Layout, n, domains, rcpts); err != nil {
		done()
		return nil, nil, nil, err
	}
	return mgr, agent, done, nil
}

// setup writes a main.cf that routes every recipient domain to the
// transport "stall", whose agent is the stalled stand-in, and returns the
// queue manager for it.
func setup(root string) (*qmgr.Manager, *stalledAgent, error) {
	configDir := filepath.Join(root, "etc")
	queueDir := filepath.Join(root, "spool")
	sockDir := filepath.Join(root, "private")
	for _, d := range []string{configDir, sockDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, nil, err
		}
	}
	mainCF := "queue_directory = " + queueDir + "\n" +
		"maillog_file = " + filepath.Join(root, "maillog") + "\n" +
		"myhostname = mx.bench.example\nmydestination =\ndefault_transport = stall\n"
	if err := os.WriteFile(filepath.Join(configDir, "main.cf"), []byte(mainCF), 0o644); err != nil {
		return nil, nil, err
	}
	cfg, err := config.Load(configDir)
	if err != nil {
		return nil, nil, err
	}
	settings, err := qmgr.FromConfig(cfg)
	if err != nil {
		return nil, nil, err
	}
	layout, err := queue.FromConfig(cfg)
	if err != nil {
		return nil, nil, err
	}
	if err := layout.MakeDirs(); err != nil {
		return nil, nil, err
	}
	resolver, err := resolve.FromConfig(cfg, nil, nil)
	if err != nil {
		return nil, nil, err
	}
	agent, err := startStalledAgent(filepath.Join(sockDir, "stall"))
	if err != nil {
		return nil, nil, err
	}
	return &qmgr.Manager{
		Settings: settings, Layout: layout, Resolver: resolver, Log: &countingLog{},
		CleanupSocket: filepath.Join(sockDir, "cleanup"), AgentDir: sockDir,
	}, agent, nil
}

// fill queues n messages in incoming/ as cleanup writes them after an
// SMTP session: the client attributes, one or more recipients, 4 KB.
func fill(layout *queue.Layout, n, domains, rcpts int) error {
	body := "From: <sender@client.example>\nTo: <rcpt@dest.example>\nSubject: qmgr memory\n\n" +
		strings.Repeat(strings.Repeat("x", 71)+"\n", 4096/72)
	now := time.Now()
	for i := 0; i < n; i++ {
		env := &queue.Envelope{ArrivalTime: now, Sender: "sender" + strconv.Itoa(i) + "@client.example",
			Attrs: []queue.Attr{
				{Name: queue.AttrClientName, Value: "localhost"},
				{Name: queue.AttrClientAddr, Value: "127.0.0.1"},
				{Name: "client_port", Value: strconv.Itoa(40000 + i%20000)},
				{Name: queue.AttrHelo, Value: "client.example"},
				{Name: queue.AttrProtocol, Value: "ESMTP"},
				{Name: "rewrite_context", Value: "remote"},
			}}
		for r := 0; r < rcpts; r++ {
			env.Recipients = append(env.Recipients, queue.Recipient{
				Address: fmt.Sprintf("user%d@d%d.dest.example", r, (i*rcpts+r)%domains)})
		}
		w, err := layout.Create(queue.Incoming)
		if err != nil {
			return err
		}
		if err := w.WriteEnvelope(env); err != nil {
			return err
		}
		if _, err := io.WriteString(w, body); err != nil {
			return err
		}
		if err := w.Commit(); err != nil {
			return err
		}
	}
	return nil
}

// countingLog counts the queue manager's "queue active" and "removed"
// lines and keeps nothing.
type countingLog struct {
	active, removed atomic.Int64
	warnings        atomic.Int64
}

func (l *countingLog) Info(format string, args ...any) {
	switch {
	case strings.HasSuffix(format, "(queue active)"):
		l.active.Add(1)
	case strings.HasSuffix(format, ": removed"):
		l.removed.Add(1)
	}
}

func (l *countingLog) Warning(format string, args ...any) {
	if l.warnings.Add(1) <= 10 {
		fmt.Fprintf(os.Stderr, "qmgr warning: "+format+"\n", args...)
	}
}

// stalledAgent accepts delivery connections and reads requests without
// answering until released; then it answers every request "sent".
type stalledAgent struct {
	ln       net.Listener
	requests atomic.Int64
	once     sync.Once
	released chan struct{}
}

func startStalledAgent(path string) (*stalledAgent, error) {
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	a := &stalledAgent{ln: ln, released: make(chan struct{})}
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go a.serve(nc)
		}
	}()
	return a, nil
}

func (a *stalledAgent) release() { a.once.Do(func() { close(a.released) }) }
func (a *stalledAgent) close()   { a.release(); a.ln.Close() }

func (a *stalledAgent) serve(nc net.Conn) {
	defer nc.Close()
	ctx := context.Background()
	conn, err := ipc.Greet(ctx, nc, ipc.ProtocolDelivery)
	if err != nil {
		return
	}
	for {
		var req ipc.DeliveryRequest
		if err := conn.Expect(ctx, &req); err != nil {
			return // qmgr closed the connection
		}
		a.requests.Add(1)
		<-a.released
		res := &ipc.DeliveryResult{}
		for _, r := range req.Recipients {
			res.Recipients = append(res.Recipients, ipc.RecipientResult{Offset: r.Offset, Address: r.Address,
				Status: ipc.StatusSent, DSNCode: "2.0.0", Reply: "250 2.0.0 Ok", Relay: "stall"})
		}
		if err := conn.Send(ctx, res); err != nil {
			return
		}
	}
}

// memSample is the process's memory at one moment.
type memSample struct {
	heapAlloc, stack, rss int64
	goroutines            int
}

// sample collects garbage and returns the freed memory to the system
// first, so that the figures are what is live.
func sample() memSample {
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return memSample{heapAlloc: int64(ms.HeapAlloc), stack: int64(ms.StackInuse), rss: rss(), goroutines: runtime.NumGoroutine()}
}

// rss is VmRSS from /proc/self/status, in bytes.
func rss() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
