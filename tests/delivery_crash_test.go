// End-to-end test that killing qmgr and smtp with SIGKILL during a delivery burst loses no message.

package tests

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestDeliverySurvivesKilledDaemons(t *testing.T) {
	const total = 30
	port := sinkPort(t)
	sink := startSink(t, "127.0.0.15:"+port, "burst.sink", sinkOptions{})
	// An agent killed mid-delivery makes qmgr hold its transport's mail
	// for transport_retry_time (60s by default, as long as the test waits).
	in := newDelivery(t, `myhostname = burst.test.example
mydestination =
transport_retry_time = 1s
`)
	in.appendMainCF("transport_maps = " + in.writeMap("transport", "burst.example smtp:[127.0.0.15]:"+port+"\n") + "\n")
	in.run()

	send := func(from, to int) {
		for i := from; i < to; i++ {
			in.send("sender@client.example", []string{fmt.Sprintf("user%d@burst.example", i)},
				fmt.Sprintf("Subject: burst %d\r\nMessage-ID: <burst-%d@client.example>\r\n\r\nbody %d\r\n", i, i, i))
		}
	}
	killService := func(service string) {
		t.Helper()
		pid := in.childPID(service, 30*time.Second)
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatalf("kill -9 %s (%d): %v", service, pid, err)
		}
		if !daemonGone(pid, 30*time.Second) {
			t.Fatalf("%s (%d) survived SIGKILL", service, pid)
		}
	}
	send(0, 10)
	killService("smtp")
	send(10, 20)
	killService("qmgr")
	send(20, total)
	killService("smtp")

	// Every message arrives at least once; one caught in flight by a kill
	// may arrive twice, which SMTP allows, so duplicates are not counted.
	deadline := time.Now().Add(60 * time.Second)
	for {
		missing := []string{}
		msgs := sink.received()
		for i := 0; i < total; i++ {
			id := fmt.Sprintf("<burst-%d@client.example>", i)
			found := false
			for _, m := range msgs {
				if strings.Contains(m.Data, "Message-ID: "+id) {
					found = true
					break
				}
			}
			if !found {
				missing = append(missing, id)
			}
		}
		if len(missing) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 60s the sink lacks %d of %d messages %v; log:\n%s", len(missing), total, missing, in.log())
		}
		time.Sleep(100 * time.Millisecond)
	}
}
