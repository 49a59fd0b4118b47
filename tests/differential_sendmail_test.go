// Differential test of sendmail's command-line errors: the lines on
// standard error and the exit status, against a real Postfix's sendmail.

package tests

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/postern/postern/tests/internal/harness"
)

// sendmailUsageCase is one command line: argv[0] and the arguments.
type sendmailUsageCase struct {
	arg0 string
	args []string
}

// sendmailUsageCases end before sendmail reads a message or runs another
// command: bad options, options that do not go together, recipients in a
// mode that takes none, and the modes with nothing to do.
var sendmailUsageCases = []sendmailUsageCase{
	{"sendmail", []string{"-k"}},
	{"sendmail", []string{"-kz", "a@b.example"}},
	{"sendmail", []string{"-t", "-f"}},
	{"sendmail", []string{"-bz"}},
	{"sendmail", []string{"-n"}},
	{"sendmail", []string{"-B", "BINARYMIME"}},
	{"sendmail", []string{"-Xx"}},
	{"sendmail", []string{"-XVab"}},
	{"sendmail", []string{"-qX"}},
	{"sendmail", []string{"-qR"}},
	{"sendmail", []string{"-qI"}},
	{"sendmail", []string{"-oA"}},
	{"sendmail", []string{"-t", "-bp"}},
	{"sendmail", []string{"-qRsite.example", "-bp"}},
	{"sendmail", []string{"-qIABC", "-bs"}},
	{"sendmail", []string{"-bv", "-t"}},
	{"sendmail", []string{"-N", "never,bogus", "-bv", "-Nsuccess", "a@b.example"}},
	{"sendmail", []string{"-bv", "-R", "x", "-Rfull", "a@b.example"}},
	{"sendmail", []string{"-bv", "-v", "a@b.example"}},
	{"sendmail", []string{"-qRsite.example", "a@b.example"}},
	{"sendmail", []string{"-qIABC", "a@b.example"}},
	{"sendmail", []string{"-bp", "a@b.example"}},
	{"sendmail", []string{"-q", "a@b.example"}},
	{"sendmail", []string{"-bd", "-q", "a@b.example"}},
	{"sendmail", []string{"-bi", "a@b.example"}},
	{"sendmail", []string{"-bs", "a@b.example"}},
	{"sendmail", []string{"-bp", "-V+=", "-V", "+="}},
	{"sendmail", []string{"-bp", "-Vtoo-long" + strings.Repeat("x", 100)}},
	{"sendmail", []string{"-q30m", "a@b.example"}},
	{"sendmail", []string{"-bh"}},
	{"mailq", []string{"-d"}},
	{"mailq", []string{"a@b.example"}},
	{"newaliases", []string{"a@b.example"}},
}

// TestSendmailUsageErrorsMatchRealPostfix: sendmail's usage errors print
// what Postfix's sendmail prints (getopt's complaint twice, as its two
// passes over the options do, then "sendmail: fatal: usage: ..."; the
// checks between options; warnings) and exit with EX_TEMPFAIL (75), as
// every fatal error of Postfix's sendmail does.
func TestSendmailUsageErrorsMatchRealPostfix(t *testing.T) {
	ours := sendmailUsageConfig(t)
	want := map[string]string{
		"sendmail -k":                          "exit 75: sendmail: invalid option -- 'k'|sendmail: invalid option -- 'k'|sendmail: fatal: usage: sendmail [options]",
		"sendmail -t -f":                       "exit 75: sendmail: option requires an argument -- 'f'|sendmail: option requires an argument -- 'f'|sendmail: fatal: usage: sendmail [options]",
		"sendmail -bz":                         "exit 75: sendmail: fatal: unsupported: -bz",
		"sendmail -bv -t":                      "exit 75: sendmail: fatal: -t option cannot be used with -bv",
		"sendmail -bp a@b.example":             "exit 75: sendmail: fatal: display queue mode requires no recipient",
		"sendmail -q30m a@b.example":           "exit 0: ",
		"mailq a@b.example":                    "exit 75: mailq: fatal: display queue mode requires no recipient",
		"sendmail -bp -V+= -V +=":              "exit 75: sendmail: warning: option -V+= is deprecated with Postfix 2.3; specify -XV+= instead|sendmail: warning: option -V is deprecated with Postfix 2.3; specify -XV instead|sendmail: fatal: display queue mode requires no recipient",
		"sendmail -bv -R x -Rfull a@b.example": "exit 75: sendmail: warning: bad -R option value -- ignored|sendmail: fatal: -R option cannot be used with -bv",
	}
	got := map[string]string{}
	for _, c := range sendmailUsageCases {
		res := harness.Invocation{Path: harness.Bin(t, "sendmail"), Arg0: c.arg0, ConfigDir: ours, ConfigViaEnv: true, Args: c.args}.Run(t)
		key := c.arg0 + " " + strings.Join(c.args, " ")
		got[key] = sendmailOutcome(res)
		if w, ok := want[key]; ok && got[key] != w {
			t.Errorf("%s: %s, want %s", key, got[key], w)
		}
	}

	pf := harness.RealPostfix(t)
	if os.Geteuid() != 0 {
		t.Skip("real Postfix's sendmail reads a private configuration directory only as root")
	}
	real := sendmailUsageConfig(t)
	for _, c := range sendmailUsageCases {
		res := harness.Invocation{Path: pf.Path(t, "sendmail"), Arg0: c.arg0, ConfigDir: real, ConfigViaEnv: true, Args: c.args}.Run(t)
		key := c.arg0 + " " + strings.Join(c.args, " ")
		if w := sendmailOutcome(res); got[key] != w {
			t.Errorf("%s:\n ours %s\n real %s", key, got[key], w)
		}
	}
}

// sendmailUsageConfig is a configuration directory whose main.cf names a
// queue directory of its own.
func sendmailUsageConfig(t *testing.T) string {
	t.Helper()
	base := t.TempDir()
	spool := filepath.Join(base, "spool")
	if err := os.Mkdir(spool, 0o755); err != nil {
		t.Fatal(err)
	}
	harness.WriteFile(t, filepath.Join(base, "etc", "main.cf"), "compatibility_level = 3.6\nqueue_directory = "+spool+"\n")
	return filepath.Join(base, "etc")
}

// sendmailOutcome is "exit N: " and the lines on standard error,
// "|"-separated.
func sendmailOutcome(res harness.Result) string {
	return "exit " + strconv.Itoa(res.ExitCode) + ": " + strings.ReplaceAll(strings.TrimSuffix(res.Stderr, "\n"), "\n", "|")
}
