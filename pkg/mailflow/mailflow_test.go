package mailflow

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/postern/postern/pkg/config"
)

// newTestPipe makes a pipe as master does and returns it as a daemon sees it.
func newTestPipe(t *testing.T) *Pipe {
	t.Helper()
	r, w, err := NewPipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	p := FromDescriptors(int(r.Fd()), int(w.Fd()))
	if p == nil {
		t.Fatal("FromDescriptors rejected the ends of NewPipe")
	}
	return p
}

func TestPutGetCount(t *testing.T) {
	p := newTestPipe(t)
	if n := p.Count(); n != 0 {
		t.Fatalf("new pipe holds %d tokens", n)
	}
	if n := p.Put(5); n != 5 {
		t.Fatalf("Put(5) = %d", n)
	}
	if n := p.Count(); n != 5 {
		t.Fatalf("Count after Put(5) = %d", n)
	}
	if n := p.Get(3); n != 3 {
		t.Fatalf("Get(3) = %d", n)
	}
	if n := p.Get(3); n != 2 {
		t.Fatalf("Get(3) with 2 left = %d", n)
	}
	if n := p.Get(1); n != 0 {
		t.Fatalf("Get(1) on an empty pipe = %d, want 0 at once", n)
	}
}

func TestPutIntoFullPipeStops(t *testing.T) {
	p := newTestPipe(t)
	const many = 1 << 22 // more than any pipe buffer
	put := p.Put(many)
	if put <= 0 || put >= many {
		t.Fatalf("Put(%d) = %d, want the pipe's capacity", many, put)
	}
	if n := p.Count(); n != put {
		t.Fatalf("Count = %d after putting %d", n, put)
	}
	if n := p.Put(1); n != 0 {
		t.Fatalf("Put(1) into a full pipe = %d", n)
	}
}

func TestMasterEndsStayNonBlocking(t *testing.T) {
	r, w, err := NewPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	// exec.Cmd calls Fd on every file it passes to a child.
	for _, f := range []*os.File{r, w} {
		flags, err := unix.FcntlInt(f.Fd(), unix.F_GETFL, 0)
		if err != nil {
			t.Fatal(err)
		}
		if flags&unix.O_NONBLOCK == 0 {
			t.Errorf("%s is blocking after Fd()", f.Name())
		}
		fdFlags, err := unix.FcntlInt(f.Fd(), unix.F_GETFD, 0)
		if err != nil {
			t.Fatal(err)
		}
		if fdFlags&unix.FD_CLOEXEC == 0 {
			t.Errorf("%s is not close-on-exec in master", f.Name())
		}
	}
}

func TestFromDescriptorsRejectsOthers(t *testing.T) {
	r1, w1, err := NewPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r1.Close()
	defer w1.Close()
	r2, w2, err := NewPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	defer w2.Close()
	file, err := os.Create(filepath.Join(t.TempDir(), "f"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	cases := map[string][2]int{
		"two pipes":         {int(r1.Fd()), int(w2.Fd())},
		"ends swapped":      {int(w1.Fd()), int(r1.Fd())},
		"a regular file":    {int(file.Fd()), int(file.Fd())},
		"closed descriptor": {1 << 20, 1<<20 + 1},
	}
	for name, fds := range cases {
		if p := FromDescriptors(fds[0], fds[1]); p != nil {
			t.Errorf("%s: accepted as the token pipe", name)
		}
	}
}

func TestGateTakesToken(t *testing.T) {
	p := newTestPipe(t)
	p.Put(1)
	g := &Gate{Pipe: p, Delay: time.Hour}
	if a := g.Enter(context.Background()); a != Token {
		t.Fatalf("Enter with a token in the pipe = %v, want Token", a)
	}
	if n := p.Count(); n != 0 {
		t.Fatalf("%d tokens left, want the token taken", n)
	}
}

func TestGatePausesWithoutTokenThenGoesOn(t *testing.T) {
	p := newTestPipe(t)
	g := &Gate{Pipe: p, Delay: time.Millisecond}
	if a := g.Enter(context.Background()); a != Paused {
		t.Fatalf("Enter on an empty pipe = %v, want Paused", a)
	}
	if n := p.Count(); n != 0 {
		t.Fatalf("the pause left %d tokens", n)
	}
}

func TestGatePauseEndsWithContext(t *testing.T) {
	p := newTestPipe(t)
	g := &Gate{Pipe: p, Delay: time.Hour}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if a := g.Enter(ctx); a != Paused {
		t.Fatalf("Enter = %v, want Paused", a)
	}
}

func TestGateDisabled(t *testing.T) {
	p := newTestPipe(t)
	p.Put(1)
	for name, g := range map[string]*Gate{
		"in_flow_delay = 0": {Pipe: p, Delay: 0},
		"no pipe":           {Delay: time.Hour},
		"nil gate":          nil,
	} {
		if a := g.Enter(context.Background()); a != Off {
			t.Errorf("%s: Enter = %v, want Off", name, a)
		}
		g.GiveBack()
	}
	if n := p.Count(); n != 1 {
		t.Errorf("in_flow_delay = 0 took or gave back a token: %d left", n)
	}
}

func TestGateConcurrentEntries(t *testing.T) {
	p := newTestPipe(t)
	const tokens, entries = 50, 80
	p.Put(tokens)
	g := &Gate{Pipe: p, Delay: time.Millisecond}
	var mu sync.Mutex
	paused := 0
	var wg sync.WaitGroup
	for range entries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if g.Enter(context.Background()) == Paused {
				mu.Lock()
				paused++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if paused != entries-tokens {
		t.Fatalf("%d entries paused, want %d (one per missing token)", paused, entries-tokens)
	}
	if n := p.Count(); n != 0 {
		t.Fatalf("%d tokens left", n)
	}
}

func TestGateGiveBack(t *testing.T) {
	p := newTestPipe(t)
	g := &Gate{Pipe: p, Delay: time.Second}
	g.GiveBack()
	if n := p.Count(); n != 1 {
		t.Fatalf("GiveBack left %d tokens, want 1", n)
	}
}

func TestProducerTook(t *testing.T) {
	p := newTestPipe(t)
	prod := &Producer{Pipe: p, Limit: 3}
	for range 5 {
		prod.Took()
	}
	if n := p.Count(); n != 3 {
		t.Fatalf("after 5 messages taken the pipe holds %d tokens, want the limit 3", n)
	}
	p.Put(4)
	prod.Took()
	if n := p.Count(); n != 3 {
		t.Fatalf("Took left %d tokens over a limit of 3, want the excess taken out", n)
	}
}

func TestProducerIdleFillsToLimit(t *testing.T) {
	p := newTestPipe(t)
	prod := &Producer{Pipe: p, Limit: 100}
	p.Put(30)
	prod.Idle()
	if n := p.Count(); n != 100 {
		t.Fatalf("Idle left %d tokens, want 100", n)
	}
	p.Put(20)
	prod.Idle()
	if n := p.Count(); n != 100 {
		t.Fatalf("Idle left %d tokens over the limit, want 100", n)
	}
}

func TestProducerDisabled(t *testing.T) {
	var nilProducer *Producer
	nilProducer.Took()
	nilProducer.Idle()
	(&Producer{Limit: 5}).Idle()
}

func TestFromConfig(t *testing.T) {
	p := newTestPipe(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.cf"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(dir) // an empty main.cf: every default
	if err != nil {
		t.Fatal(err)
	}
	g, err := GateFromConfig(cfg, p)
	if err != nil {
		t.Fatal(err)
	}
	if g.Delay != time.Second {
		t.Errorf("default in_flow_delay = %v, want 1s", g.Delay)
	}
	prod, err := ProducerFromConfig(cfg, p)
	if err != nil {
		t.Fatal(err)
	}
	if prod == nil || prod.Limit != 100 {
		t.Fatalf("default producer = %+v, want a limit of default_process_limit (100)", prod)
	}
	cfg.Set("in_flow_delay", "0")
	cfg.Set("default_process_limit", "7")
	if g, err = GateFromConfig(cfg, p); err != nil || g.Delay != 0 {
		t.Errorf("in_flow_delay = 0: gate %+v, %v", g, err)
	}
	if prod, err = ProducerFromConfig(cfg, p); err != nil || prod != nil {
		t.Errorf("in_flow_delay = 0: producer %+v, %v; want none", prod, err)
	}
	cfg.Set("in_flow_delay", "11s")
	if _, err := GateFromConfig(cfg, p); err == nil {
		t.Errorf("in_flow_delay = 11s accepted; Postfix allows 0..10")
	}
}
