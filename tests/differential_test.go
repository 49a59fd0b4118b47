// Shared machinery of the differential tests: run one command with the real Postfix and with Postern, and compare.

package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/postern/postern/tests/internal/harness"
)

// differentialHostMainCF starts the main.cf that the SMTP differential
// tests give both the real Postfix and Postern: the same host, domain,
// destinations and network.
const differentialHostMainCF = `compatibility_level = 3.6
myhostname = mx.test.example
mydomain = test.example
mydestination = $myhostname, localhost, test.example
mynetworks = 127.0.0.1/32
`

// dirToken stands for a side's configuration directory in arguments and
// replaces it in output, so the two sides' different paths compare equal.
const dirToken = "$DIR"

// oracleSeries is the Postfix release series the corpus was checked
// against; other series change defaults and messages (3.9, for one,
// changes smtpd_forbid_bare_newline), so their answers are not the oracle.
const oracleSeries = "3.7."

// realPostfix returns the real Postfix of the oracle series, or skips.
func realPostfix(t *testing.T) *harness.Postfix {
	t.Helper()
	pf := harness.RealPostfix(t)
	if !strings.HasPrefix(pf.Version, oracleSeries) {
		harness.SkipOrFail(t, fmt.Sprintf("the differential corpus is for Postfix %sx; installed is %s", oracleSeries, pf.Version))
	}
	return pf
}

// twin is two configuration directories with identical content: the real
// Postfix runs in one, Postern in the other, so neither sees files the
// other wrote (both postmaps write NAME.db, in different formats).
type twin struct {
	real, ours string
	files      map[string]string
}

func newTwin(t *testing.T, files map[string]string) twin {
	t.Helper()
	return twin{
		real:  harness.NewConfigDir(t, files),
		ours:  harness.NewConfigDir(t, files),
		files: files,
	}
}

// describe renders the files for a failure message.
func (tw twin) describe() string {
	names := make([]string, 0, len(tw.files))
	for name := range tw.files {
		names = append(names, name)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, name := range names {
		fmt.Fprintf(&b, "==> %s/%s <==\n%s", dirToken, name, tw.files[name])
		if !strings.HasSuffix(tw.files[name], "\n") {
			b.WriteString("\n")
		}
	}
	return b.String()
}

// query is one command run on both sides.
type query struct {
	prog   string   // "postconf", "postmap", "postalias"
	args   []string // after "-c DIR"; dirToken in an argument becomes the side's directory
	stdin  string
	viaEnv bool // select the directory with MAIL_CONFIG instead of -c
	// unprivileged runs the command as an unprivileged user when the
	// tests run as root, for commands that write files named in main.cf:
	// a Postern that misreads main.cf must not overwrite system files.
	unprivileged bool
	// sortStdout compares stdout as a set of lines, for dumps whose order
	// is the table's internal order.
	sortStdout bool
	// showFile names a file of the configuration directory whose content
	// is appended to stdout after the command ran (for postconf -e, -X, -#).
	showFile string
	// normalize, when set, rewrites both sides' stdout before comparison
	// (for values that differ by nature, such as a time stamp).
	normalize func(string) string
}

// label is the command line as a reader would type it.
func (q query) label() string {
	parts := []string{q.prog}
	if q.viaEnv {
		parts = []string{"MAIL_CONFIG=" + dirToken, q.prog}
	}
	for _, a := range q.args {
		if a == "" || strings.ContainsAny(strings.ReplaceAll(a, dirToken, ""), " \t'\"{}$*?!|;<>") {
			a = "'" + a + "'"
		}
		parts = append(parts, a)
	}
	switch {
	case len(q.stdin) > 40:
		parts = append(parts, fmt.Sprintf("<<< (%d lines)", strings.Count(q.stdin, "\n")))
	case q.stdin != "":
		parts = append(parts, fmt.Sprintf("<<< %q", q.stdin))
	}
	return strings.Join(parts, " ")
}

// run executes q with binary path in configuration directory dir.
func (q query) run(t *testing.T, path, dir string) harness.Result {
	t.Helper()
	args := make([]string, len(q.args))
	for i, a := range q.args {
		args[i] = strings.ReplaceAll(a, dirToken, dir)
	}
	inv := harness.Invocation{Path: path, Arg0: q.prog, Args: args, ConfigDir: dir, ConfigViaEnv: q.viaEnv, Stdin: q.stdin}
	if q.unprivileged {
		inv.AsUser = harness.Unprivileged(t, dir)
	}
	res := inv.Run(t)
	if q.showFile != "" {
		content, err := os.ReadFile(filepath.Join(dir, q.showFile))
		if err != nil {
			content = []byte(err.Error() + "\n")
		}
		res.Stdout += "==> " + q.showFile + " <==\n" + string(content)
	}
	res.Stdout = strings.ReplaceAll(res.Stdout, dir, dirToken)
	res.Stderr = strings.ReplaceAll(res.Stderr, dir, dirToken)
	if q.normalize != nil {
		res.Stdout = q.normalize(res.Stdout)
	}
	if q.sortStdout {
		res.Stdout = sortedLines(res.Stdout)
	}
	return res
}

// differential runs q on both sides of tw and fails t with a readable diff
// (real Postfix as "-", Postern as "+") when the answers differ. A query
// listed in exclusions is still run; a difference is reported as a skip
// with the recorded reason, and agreement fails the test so the stale
// exclusion gets removed.
func differential(t *testing.T, pf *harness.Postfix, tw twin, q query, exclusions map[string]string) {
	t.Helper()
	postfix := q.run(t, pf.Path(t, q.prog), tw.real)
	postern := q.run(t, harness.Bin(t, q.prog), tw.ours)
	report := mismatch(postfix, postern)
	reason, excluded := exclusions[q.label()]
	switch {
	case excluded && report == "":
		t.Errorf("%s: Postern now answers as Postfix; remove its exclusion (%s)", q.label(), reason)
	case excluded:
		t.Skipf("%s: deliberate difference: %s\n%s", q.label(), reason, report)
	case report != "":
		t.Errorf("%s: Postern differs from Postfix (-real +ours):\n%s", q.label(), report)
	}
}

// mismatch describes how postern's result differs from postfix's: exit
// status, stdout, and the set of stderr lines (Postfix prints some
// warnings in hash-table order and some twice, so order and repeats are
// not compared). "" means equal.
func mismatch(postfix, postern harness.Result) string {
	var b strings.Builder
	if postfix.ExitCode != postern.ExitCode {
		fmt.Fprintf(&b, "exit status: real %d, ours %d\n", postfix.ExitCode, postern.ExitCode)
	}
	if d := harness.Diff(postfix.Stdout, postern.Stdout); d != "" {
		fmt.Fprintf(&b, "stdout:\n%s", d)
	}
	if d := harness.Diff(stderrSet(postfix.Stderr), stderrSet(postern.Stderr)); d != "" {
		fmt.Fprintf(&b, "stderr lines:\n%s", d)
	}
	return b.String()
}

// stderrSet is the sorted set of distinct non-empty stderr lines.
func stderrSet(s string) string {
	seen := map[string]bool{}
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if l != "" && !seen[l] {
			seen[l] = true
			lines = append(lines, l)
		}
	}
	sort.Strings(lines)
	return joinLines(lines)
}

func sortedLines(s string) string {
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	if s == "" {
		lines = nil
	}
	sort.Strings(lines)
	return joinLines(lines)
}

func joinLines(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	return strings.Join(lines, "\n") + "\n"
}

// replaceAll returns a normalize function that rewrites every match of re.
func replaceAll(re *regexp.Regexp, with string) func(string) string {
	return func(s string) string { return re.ReplaceAllString(s, with) }
}
