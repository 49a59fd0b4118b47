// End-to-end tests of spawn(8): a stdin/stdout policy server run by spawn
// behind check_policy_service, its user= and its time limit, compared with
// a real Postfix 3.7 running the same script under its own spawn.

package tests

import (
	"os"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/postern/postern/tests/internal/harness"
)

// spawnPolicyScript is a policy server on standard input and output: it
// rejects reject@, exits with status 3 at close@, never answers sleep@
// (spawn's time limit must end it) and says DUNNO to the rest. Its
// reject text names the user it runs as.
const spawnPolicyScript = `#!/bin/sh
while IFS= read -r line; do
	case $line in
	recipient=*) rcpt=${line#recipient=} ;;
	"")
		case $rcpt in
		sleep@*) sleep 300 ;;
		close@*) exit 3 ;;
		reject@*) echo "action=REJECT spawned policy says no to uid $(id -u)" ;;
		*) echo "action=DUNNO" ;;
		esac
		echo
		;;
	esac
done
`

// spawnMainCF is the main.cf of both servers: policy runs with the
// default time limit, slowpolicy with one second.
const spawnMainCF = differentialHostMainCF + `local_recipient_maps =
alias_maps =
smtpd_peername_lookup = no
smtpd_restriction_classes = slow
slow = check_policy_service { unix:private/slowpolicy, try_limit=1 }
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_recipient_restrictions = check_recipient_access texthash:ETC/recipients, check_policy_service unix:private/policy
slowpolicy_time_limit = 1s
`

// spawnMasterCF are the spawn services; SCRIPT is the policy script.
const spawnMasterCF = `policy unix - n n - 0 spawn user=nobody argv=SCRIPT
slowpolicy unix - n n - 0 spawn user=nobody argv=SCRIPT
`

var spawnSession = smtpDiffSession{"spawned policy", "127.0.0.2", []string{"EHLO c.example", "MAIL FROM:<s@remote.example>",
	"RCPT TO:<reject@test.example>", "RCPT TO:<pftest@test.example>", "RCPT TO:<close@test.example>", "QUIT"}}

// spawnSlowSession meets the time limit. It is not run against Postfix
// 3.7, whose spawn cannot kill a command of another user (see README).
var spawnSlowSession = smtpDiffSession{"slow policy", "127.0.0.2", []string{"EHLO c.example", "MAIL FROM:<s@remote.example>",
	"RCPT TO:<sleep@test.example>", "QUIT"}}

// writeSpawnScript writes the policy script where user nobody can run it.
func writeSpawnScript(t *testing.T) string {
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	script := filepath.Join(dir, "policy.sh")
	if err := os.WriteFile(script, []byte(spawnPolicyScript), 0o755); err != nil {
		t.Fatal(err)
	}
	return script
}

// startOurSpawn starts Postern's master with smtpd, cleanup and the two
// spawn services; as root master keeps root, so spawn runs the script
// as user=nobody.
func startOurSpawn(t *testing.T, script string) *smtpdRun {
	addr := harness.FreeAddr(t)
	in := newMasterRun(t, masterRunOptions{asRoot: true, masterCF: addr + ` inet n - n - - smtpd
cleanup unix n - n - 0 cleanup
anvil unix - - n - 1 anvil
postlog unix-dgram n - n - 1 postlogd
` + strings.ReplaceAll(spawnMasterCF, "SCRIPT", script)})
	in.linkDaemons("smtpd", "cleanup", "anvil", "spawn")
	recipients := filepath.Join(in.etc, "recipients")
	harness.WriteFile(t, recipients, "sleep@test.example slow\n")
	in.giveAway(recipients)
	in.appendMainCF(strings.ReplaceAll(spawnMainCF, "ETC", in.etc))
	in.start()
	waitListening(t, addr)
	return &smtpdRun{masterRun: in, addr: addr}
}

// spawnLogLines are the spawn warnings and smtpd's policy warnings and
// reject lines, process IDs, queue IDs and the script's path made equal.
func spawnLogLines(log, script string) []string {
	line := regexp.MustCompile(`(spawn|smtpd)\[\d+\]: (warning: .*|[0-9A-Za-z]+: reject: .*)$`)
	queueID := regexp.MustCompile(`^[0-9A-Za-z]+: reject: `)
	pid := regexp.MustCompile(`process id \d+`)
	var out []string
	for _, l := range strings.Split(log, "\n") {
		if m := line.FindStringSubmatch(l); m != nil {
			text := pid.ReplaceAllString(strings.ReplaceAll(m[2], script, "SCRIPT"), "process id N")
			text = queueID.ReplaceAllString(text, "ID: reject: ")
			out = append(out, m[1]+": "+text)
		}
	}
	return out
}

// TestSpawnPolicy: check_policy_service reaches a script through spawn,
// which runs it as user= (as root) and logs its exit status; a script
// that does not answer is killed with its process group at
// $slowpolicy_time_limit, which smtpd reports as a policy failure. The
// replies and log lines are compared with Postfix 3.7's.
func TestSpawnPolicy(t *testing.T) {
	script := writeSpawnScript(t)
	ours := startOurSpawn(t, script)
	got := restrictionsDiffReplies(t, ours.addr, spawnSession)
	slow := restrictionsDiffReplies(t, ours.addr, spawnSlowSession)

	uid := os.Getuid()
	if uid == 0 {
		nobody, err := user.Lookup("nobody")
		if err != nil {
			t.Fatal(err)
		}
		uid, _ = strconv.Atoi(nobody.Uid)
	}
	want := []string{
		"banner -> 220",
		"EHLO c.example -> 250 8BITMIME CHUNKING DSN ENHANCEDSTATUSCODES ETRN PIPELINING SIZE 10240000 SMTPUTF8 VRFY",
		"MAIL FROM:<s@remote.example> -> 250 2.1.0 Ok",
		"RCPT TO:<reject@test.example> -> 554 5.7.1 <reject@test.example>: Recipient address rejected: spawned policy says no to uid " + strconv.Itoa(uid),
		"RCPT TO:<pftest@test.example> -> 250 2.1.5 Ok",
		"RCPT TO:<close@test.example> -> 451 4.3.5 <close@test.example>: Recipient address rejected: Server configuration problem",
		"QUIT -> 221 2.0.0 Bye",
		"banner -> 220",
		"EHLO c.example -> 250 8BITMIME CHUNKING DSN ENHANCEDSTATUSCODES ETRN PIPELINING SIZE 10240000 SMTPUTF8 VRFY",
		"MAIL FROM:<s@remote.example> -> 250 2.1.0 Ok",
		"RCPT TO:<sleep@test.example> -> 451 4.3.5 <sleep@test.example>: Recipient address rejected: Server configuration problem",
		"QUIT -> 221 2.0.0 Bye",
	}
	if d := harness.Diff(strings.Join(want, "\n")+"\n", strings.Join(append(got, slow...), "\n")+"\n"); d != "" {
		t.Errorf("replies differ (-want +got):\n%s", d)
	}
	// Each spawn logs its command's end while smtpd replies: wait for
	// every line.
	var log string
	for _, line := range []string{
		"spawn: warning: command SCRIPT exit status 3",
		"spawn: warning: SCRIPT: process id N: command time limit exceeded",
		"spawn: warning: command SCRIPT killed by signal 9",
	} {
		deadline := time.Now().Add(30 * time.Second)
		for log = ours.log(); !strings.Contains(strings.Join(spawnLogLines(log, script), "\n"), line); log = ours.log() {
			if time.Now().After(deadline) {
				t.Fatalf("log lacks %q:\n%s", line, log)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	// The same session against a real Postfix's spawn.
	pf := realPostfixMaster(t)
	realAddr, realLog := startRealPostfixSMTPWith(t, pf, smtpDiffSetup{
		mainCF:   func(etc string) string { return strings.ReplaceAll(spawnMainCF, "ETC", etc) },
		files:    map[string]string{"recipients": "sleep@test.example slow\n"},
		masterCF: strings.ReplaceAll(spawnMasterCF, "SCRIPT", script),
	})
	real := restrictionsDiffReplies(t, realAddr, spawnSession)
	if d := harness.DiffLines(real, got); d != "" {
		t.Errorf("replies differ (-real +ours):\n%s", d)
	}
	// Our lines but the slow session's.
	var ourLines []string
	slowLine := regexp.MustCompile(`sleep@|slowpolicy|time limit exceeded|killed by signal`)
	for _, l := range spawnLogLines(log, script) {
		if !slowLine.MatchString(l) {
			ourLines = append(ourLines, l)
		}
	}
	realLines := waitLogLines(realLog, len(ourLines), func(log string) []string { return spawnLogLines(log, script) })
	if d := harness.DiffLines(realLines, ourLines); d != "" {
		t.Errorf("log lines differ (-real +ours):\n%s", d)
	}
}
