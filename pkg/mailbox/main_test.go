// Lets the test binary deliver one message to an mbox in a process of its own, for the tests of locking between processes.

package mailbox

import (
	"fmt"
	"os"
	"testing"
)

// mboxChildEnv names the mbox file the test binary, started with it in
// its environment, delivers its standard input to before it exits.
const mboxChildEnv = "POSTERN_TEST_MBOX_CHILD"

func TestMain(m *testing.M) {
	if path := os.Getenv(mboxChildEnv); path != "" {
		req := &Request{Path: path, Locks: Locks{Fcntl: true, Dotlock: true},
			Message: Message{Sender: "s@example.com", Recipient: "bob@example.test"}}
		if err := Deliver(req, os.Stdin); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}
