// Package tests holds Postern's end-to-end tests. They run the binaries
// that internal/harness builds from every main package of the module, and
// compare them with real peers.
//
// The differential tests (differential_*_test.go) write main.cf files and
// lookup tables into pairs of identical temporary directories, run the same
// postconf, postmap, postalias and newaliases commands with the installed
// Postfix 3.7 in one and with Postern in the other, and fail with a diff
// (-real +ours) wherever exit status, stdout or the set of stderr lines
// differ. Deliberate differences are listed by name with their reason and
// reported as skips. Without a real Postfix the tests skip; set
// POSTERN_REQUIRE_POSTFIX=1 to make that a failure (see internal/harness for
// the other variables).
//
//	go test ./tests/...
package tests
