// Package tests holds Postern's end-to-end tests: they run the built
// binaries (see internal/harness) against real peers, starting with the
// differential test that checks postconf, postmap and postalias answer what
// the installed real Postfix answers.
package tests
