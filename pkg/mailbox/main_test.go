// Lets the test binary act as the delivery helper, as a delivery agent binary does.

package mailbox

import (
	"os"
	"testing"
)

func TestMain(m *testing.M) {
	if IsHelper(os.Args) {
		os.Exit(HelperMain(os.Stdin, os.Stdout))
	}
	os.Exit(m.Run())
}
