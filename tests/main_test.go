// Routes the end-to-end tests through the harness, which builds the binaries once.

package tests

import (
	"testing"

	"github.com/postern/postern/tests/internal/harness"
)

func TestMain(m *testing.M) { harness.Main(m) }
