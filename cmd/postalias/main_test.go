// Differential test: Postern's postalias and newaliases against
// Postfix's on the same aliases files.

package main

import (
	"os"
	"testing"

	"github.com/postern/postern/pkg/maps/tablecmd/difftest"
)

const aliases = "postmaster: root\nRoot: admin, other@example.com,\n   |\"/usr/bin/foo bar\", /var/mail/x\n# comment\n" +
	"\"quoted name\": x\nbad line\nnocolon\n:empty: y\ninc: :include:/etc/inc\ndup: a\ndup: b\nempty:\nsp : z\n" +
	"list:    a  ,  b   \n  # cmt\n\tc\nA@B: x\nc\"d\": e\n  \"sp\": f\n(cm) g: h\nw :: z\n"

const values = "a: User@Example.COM\nb: Joe Smith <joe@x>\nc: joe (comment here) , x\nd: \"quoted, comma\"@x, y\n" +
	"e: /var/mail/box/\nf: |\"exit 67\"\ng: x,,y,\nh: a@b , c@d\ni: |/bin/cmd   arg\nj: a\tb\nk: <x@y>\n" +
	"l: x\"y\"\nm: a\\ b\nn: a  <b> c\no: \\root\np: x%\"a\"\nq: x&\"a\"\nr: x\\,y\ns: [1.2.3.4] x\nt: (a\\)b) x\n" +
	"u: x|\"a\"\nv: /\"a\"\nw: [a\nx: \"unterminated\ny: a(b(c)d)e\n"

func TestPostaliasMatchesPostfix(t *testing.T) {
	ours := difftest.Build(t, "postalias")
	q := func(args ...string) difftest.Step { return difftest.Step{Args: args} }
	dump := func(spec string) difftest.Step { return difftest.Step{Args: []string{"-s", spec}, Unordered: true} }
	scenarios := []difftest.Scenario{
		{Name: "syntax", Files: map[string]string{"aliases": aliases}, Steps: []difftest.Step{
			q("aliases"), dump("aliases"),
			q("-q", "ROOT", "aliases"), q("-q", "quoted name", "aliases"), q("-q", "@", "aliases"),
			q("-q", "YP_MASTER_NAME", "aliases"), q("-q", "nope", "aliases"),
			{Args: []string{"-q", "-", "aliases"}, Stdin: "root\nnope\npostmaster\n@\n"},
		}},
		{Name: "values", Files: map[string]string{"aliases": values}, Steps: []difftest.Step{q("aliases"), dump("aliases")}},
		{Name: "update", Files: map[string]string{"aliases": "root: admin\nDup: x\n"}, Steps: []difftest.Step{
			q("aliases"),
			{Args: []string{"-i", "aliases"}, Stdin: "k: v\nbad\ndup: y\n"},
			dump("aliases"), q("-d", "root", "aliases"), q("-d", "root", "aliases"), q("-q", "root", "aliases"),
			q("-f", "aliases"), q("-q", "Dup", "aliases"), q("-r", "aliases"),
		}},
		{Name: "errors", Steps: []difftest.Step{q("missing"), q("-q", "x", "missing"), q("-Z")}},
	}
	difftest.Compare(t, "/usr/sbin/postalias", ours, "postalias", scenarios,
		"YP_LAST_MODIFIED", "postalias: fatal: usage:")
}

// TestNewaliasesMatchesPostfix compares Postern's newaliases with
// Postfix's "sendmail -bi", which runs postalias on alias_database.
func TestNewaliasesMatchesPostfix(t *testing.T) {
	const sendmail = "/usr/sbin/sendmail"
	if _, err := os.Stat(sendmail); err != nil {
		t.Skipf("real sendmail not installed: %v", err)
	}
	ours := difftest.Build(t, "postalias")
	sc := difftest.Scenario{Files: map[string]string{
		"main.cf": "alias_database = hash:$config_directory/a1, btree:$config_directory/a2\n",
		"a1":      "x: y\nbad\n", "a2": "z: w\n",
	}}
	realDir, oursDir := difftest.Setup(t, sc), difftest.Setup(t, sc)
	want := difftest.Run(t, sendmail, realDir, difftest.Step{Args: []string{"-bi"}})
	got := difftest.Run(t, difftest.Link(t, ours, "newaliases"), oursDir, difftest.Step{})
	if got != want {
		t.Errorf("newaliases:\nPostfix:\n%s\nPostern:\n%s", want, got)
	}
	for _, spec := range []string{"hash:a1", "btree:a2"} {
		step := difftest.Step{Args: []string{"-s", spec}, Unordered: true}
		want := difftest.Run(t, "/usr/sbin/postalias", realDir, step, "YP_LAST_MODIFIED")
		got := difftest.Run(t, ours, oursDir, step, "YP_LAST_MODIFIED")
		if got != want {
			t.Errorf("postalias -s %s after newaliases:\nPostfix:\n%s\nPostern:\n%s", spec, want, got)
		}
	}
}
