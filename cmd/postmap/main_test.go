// Differential test: Postern's postmap against Postfix's on the same
// source files, queries and updates.

package main

import (
	"os"
	"testing"

	"github.com/postern/postern/pkg/maps/tablecmd/difftest"
)

const source = "a,   b\nkey1 val1\nKEY2   val2  \n# comment\n  # indented comment\ncont first,   \n   second\n\n" +
	"badline\n\"quoted key\" qv\ndup one\ndup two\n\t leading ws\n\"unterminated value\nz\\ v\nk3 v3\r\nname: value\n"

// messageChecks matches every key and says which rule matched.
const messageChecks = "/^Subject: .*world/ FOLDED\n/^Content-/ MIME\n/^--/ BOUNDARY\n/^$/ EMPTY\n/^/ ANY\n"

const mimeMessage = "From: a@b\nSubject: hello\n\tworld\nContent-Type: multipart/mixed; boundary=\"XX\"\nMIME-Version: 1.0\n\n" +
	"preamble\n--XX\nContent-Type: text/plain\nX-Part: one\n\nbody line\n--XX\nContent-Type: message/rfc822\n\n" +
	"Subject: nested\nFrom: c@d\n\nnested body\n--XX--\nepilogue\n"

const garbageMessage = "Subject: x\ngarbage line\n--b\nbody\n"

const digestMessage = "Content-Type: multipart/digest; boundary=b1\nSubject: y\n\n--b1\n\nSubject: in digest\n" +
	"Content-Type: multipart/alternative; boundary=b2\n\n--b2\nContent-Type: text/html\n ; charset=x\n\n<p>\n--b2--\n--b1--\ntail\n"

const utf8Source = "straße v\nΣX s\nk\xff v\nok v\n"

func TestPostmapMatchesPostfix(t *testing.T) {
	ours := difftest.Build(t, "postmap")
	q := func(args ...string) difftest.Step { return difftest.Step{Args: args} }
	scenarios := []difftest.Scenario{
		{Name: "build and query", Files: map[string]string{"t": source}, Steps: []difftest.Step{
			q("t"),
			{Args: []string{"-s", "t"}, Unordered: true},
			q("-q", "KEY1", "t"), q("-q", "cont", "t"), q("-q", `"quoted key"`, "t"), q("-q", "quoted key", "t"),
			q("-q", "dup", "t"), q("-q", "k3", "t"), q("-q", "name:", "t"), q("-q", "nope", "t"), q("-fq", "KEY1", "t"),
			q("-q", "nope", "t", "hash:t"), q("-q", "key1", "missing", "t"),
			{Args: []string{"-q", "-", "t"}, Stdin: "key1\nnope\nKEY2\ncont\n\n"},
			{Args: []string{"-q", "-", "t"}, Stdin: "nope\n"},
		}},
		{Name: "texthash", Files: map[string]string{"t": source}, Steps: []difftest.Step{
			q("-q", "key2", "texthash:t"), q("-q", "nope", "texthash:t"), q("texthash:t"),
		}},
		{Name: "options", Files: map[string]string{"t": source}, Steps: []difftest.Step{
			q("-r", "t"), q("-q", "dup", "t"), q("-w", "t"), q("-q", "dup", "t"), q("-f", "t"),
			q("-q", "KEY2", "t"), q("-fq", "KEY2", "t"),
			q("-q", "x", "-q", "y", "t"), q("-s", "-d", "x", "t"), q("-q", "x"), q("-Y", "t"), q("-d"),
		}},
		{Name: "update and delete", Files: map[string]string{"t": "key1 val1\nkey2 val2\n"}, Steps: []difftest.Step{
			q("t"),
			{Args: []string{"-i", "t"}, Stdin: "New VAL\nkey1 other\nbad\n"},
			{Args: []string{"-s", "t"}, Unordered: true},
			{Args: []string{"-ri", "t"}, Stdin: "key1 third\n"},
			q("-q", "key1", "t"), q("-d", "KEY1", "t"), q("-d", "key1", "t"),
			{Args: []string{"-d", "-", "t"}, Stdin: "nope\nnew\n"},
			{Args: []string{"-s", "t"}, Unordered: true},
			{Args: []string{"-i", "fresh"}, Stdin: "a b\n"}, q("-q", "a", "fresh"),
		}},
		{Name: "inline and static", Steps: []difftest.Step{
			q("-q", "k", "inline:{ k=v, {k2 = v w/ space} }"), q("-q", "K2", "inline:{ k=v, {k2 = v w/ space} }"),
			q("-q", "k", "inline:{ k = v }"), q("-q", "k", "inline:{k=v"), q("-q", "k", "inline:{}"),
			q("-q", "k", "inline:{ , }"), q("-q", "k", "inline:{ {} }"), q("-q", "k", "inline:{ {k=v}x }"),
			q("-q", "k", "inline:{ k==v }"), q("-q", "k", "inline:{ {k = a, b} }"),
			{Args: []string{"-s", "inline:{ a=1 }"}},
			q("-q", "any", "static:value"), q("-q", "any", "static:{ text with space }"),
			q("-q", "any", "static:{x"), q("-q", "any", "static:{ a } b"), q("-q", "any", "static:"),
			q("-s", "static:x"), q("static:x"), q("-q", "x", "nosuch:t"),
		}},
		{Name: "SMTPUTF8 folding", Files: map[string]string{"t": utf8Source}, Steps: []difftest.Step{
			q("t"), {Args: []string{"-s", "t"}, Unordered: true},
			q("-q", "STRASSE", "t"), q("-q", "ΣX", "t"), q("-q", "ä", "inline:{Ä=1}"), q("-q", "ok", "texthash:t"),
			{Args: []string{"-i", "t"}, Stdin: "k\xff v\n"},
		}},
		{Name: "ASCII folding", Files: map[string]string{"t": utf8Source, "main.cf": "compatibility_level = 0\n"},
			Steps: []difftest.Step{
				q("t"), {Args: []string{"-s", "t"}, Unordered: true},
				q("-q", "STRASSE", "t"), q("-q", "straßE", "t"), q("-q", "ä", "inline:{Ä=1}"),
			}},
		{Name: "message keys -h -b -m", Files: map[string]string{"re": messageChecks, "pcidr": "127.0.0.0/8 ok\n"},
			Steps: func() []difftest.Step {
				var steps []difftest.Step
				for _, flags := range [][]string{{"-h"}, {"-b"}, {"-m"}, {"-hm"}, {"-bm"}, {"-hb"}, {"-hbm"}} {
					for _, msg := range []string{mimeMessage, garbageMessage, digestMessage} {
						steps = append(steps, difftest.Step{Args: append(append([]string{}, flags...), "-q", "-", "regexp:re"), Stdin: msg})
					}
				}
				return append(steps, q("-h", "-q", "x", "regexp:re"), q("-b", "regexp:re"),
					difftest.Step{Args: []string{"-h", "-q", "-", "regexp:re", "inline:{{Subject: hello}=inline}"}, Stdin: "Subject: hello\n\nx\n"})
			}()},
		{Name: "errors", Steps: []difftest.Step{
			q("missing"), q("-q", "x", "missing"), q("-q", "x", "btree:missing"), q("-q", "x", "texthash:missing"),
		}},
	}
	// Postern lists only the options it has in its usage message.
	difftest.Compare(t, "/usr/sbin/postmap", ours, "postmap", scenarios, "postmap: fatal: usage:")
}

// TestBerkeleyDBFileIsRefused checks that a NAME.db written by Postfix
// (Berkeley DB) gets a clear error telling to rebuild it.
func TestBerkeleyDBFileIsRefused(t *testing.T) {
	const real = "/usr/sbin/postmap"
	if _, err := os.Stat(real); err != nil {
		t.Skipf("real postmap not installed: %v", err)
	}
	ours := difftest.Build(t, "postmap")
	dir := difftest.Setup(t, difftest.Scenario{Files: map[string]string{"t": "a b\n"}})
	difftest.Run(t, real, dir, difftest.Step{Args: []string{"t"}})
	got := difftest.Run(t, ours, dir, difftest.Step{Args: []string{"-q", "a", "t"}})
	want := "stdout:\n\nstderr:\npostmap: fatal: open database t.db: not a Postern table file " +
		"(perhaps built by another program); rebuild it with postmap or postalias\nstatus: 1"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
