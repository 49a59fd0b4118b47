// Package harness is the shared ground for Postern's end-to-end tests.
//
// It builds every Postern binary once per test binary run (Bin, BinDir),
// runs programs and captures their stdout, stderr and exit code (Invocation,
// Result), writes configuration directories (NewConfigDir, WriteFile),
// finds free 127.0.0.1 ports (FreePort, FreeAddr), runs a program as an
// unprivileged user when the tests run as root (Unprivileged with
// Invocation.AsUser), locates the real Postfix installed on the machine for
// differential tests (RealPostfix, SkipOrFail) and renders line diffs for
// failure messages (Diff).
//
// Files written by NewConfigDir and WriteFile are dated an hour back:
// Postfix re-reads a file modified within the last second, which repeats
// its warnings and costs a second per command.
//
// A test package that uses it must route its TestMain through Main so the
// binaries are built at most once and removed afterwards:
//
//	func TestMain(m *testing.M) { harness.Main(m) }
//
// Environment variables:
//
//	POSTERN_BIN              use the binaries in this directory instead of
//	                         building them (e.g. POSTERN_BIN=$PWD/bin after make)
//	POSTFIX_SBIN             directory holding the real Postfix commands
//	                         (default /usr/sbin)
//	POSTERN_REQUIRE_POSTFIX  when "1", a missing real Postfix fails the tests
//	                         that need it instead of skipping them
package harness
