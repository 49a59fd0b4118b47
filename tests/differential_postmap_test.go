// Differential test of postmap: tables of every file type built and queried by the real postmap and by Postern's.

package tests

import (
	"strings"
	"testing"
)

// tableCase is a configuration directory holding tables, and the commands
// run on it in order (a build comes before the lookups that need it).
type tableCase struct {
	name    string
	files   map[string]string // besides main.cf, which every case gets
	queries []query
}

// lookups asks each key alone with `postmap -q KEY spec`, then all of them
// at once with `postmap -q - spec` (keys on stdin).
func lookups(prog, spec string, keys ...string) []query {
	var qs []query
	for _, k := range keys {
		qs = append(qs, query{prog: prog, args: []string{"-q", k, spec}})
	}
	var stdin strings.Builder
	for _, k := range keys {
		if k != "" && !strings.ContainsAny(k, " \t") {
			stdin.WriteString(k + "\n")
		}
	}
	return append(qs, query{prog: prog, args: []string{"-q", "-", spec}, stdin: stdin.String()})
}

func postmapRun(args ...string) query { return query{prog: "postmap", args: args} }

// dump is `-s`, compared as a set of lines: the order is the store's own.
func dump(prog string, args ...string) query {
	return query{prog: prog, args: append([]string{"-s"}, args...), sortStdout: true}
}

func concat(parts ...[]query) []query {
	var all []query
	for _, p := range parts {
		all = append(all, p...)
	}
	return all
}

// indexedSource exercises the key/value source format shared by hash,
// btree and texthash.
const indexedSource = `# comment
Alice@Example.COM   alice-local
example.com  domain-value
bob   first
bob   second
"quoted key" quoted value
cont   a,
   b
	c
badline
user@sub.example.com   sub
   
  # indented comment
UPPER   MixedCase Value
tabbed	tab	separated   value   
hashval  value # not a comment
colon:   key with colon
novalue   
ÜBER   utf8 key
`

var indexedKeys = []string{
	"alice@example.com", "ALICE@EXAMPLE.COM", "Alice@Example.COM",
	"example.com", "sub.example.com", "user@sub.example.com", "@sub.example.com", "user",
	"bob", "quoted key", `"quoted key"`, "cont", "badline", "upper", "UPPER", "tabbed",
	"hashval", "colon:", "colon", "novalue", "über", "ÜBER", "Über",
	"nosuch", "",
}

// regexpBasic covers substitution, flags and negation (regexp_table(5)).
const regexpBasic = `# regexp table
/^(.*)@example\.com$/   ${1}@example.net
/^(abc)(def)$/          $2-$1 $$x
/^CaseSens$/i           case-sensitive-hit
/^(x)|(y)$/             alt-$1-$2
/^paren$/               $(0)-whole
/^a(b)$/x               basic-syntax
!/^keep/                not-keep
/^keepme$/              should-not-reach
`

// regexpBlocks covers if/endif, other delimiters and continuation lines.
const regexpBlocks = `if /^block/
/^block-(a+)$/   in-block $1
/^block-b$/      in-block-b
endif
if !/^zz/
/^y(.*)$/        not-zz $(1)
endif
=^eq(.*)$=  eqdelim $1
/^a
 b$/  contpat
/^multi$/ line one
  line two
/^trail$/ trailing   
if /^n/
if /^ne/
/^nes(t)$/ nested-$1
endif
/^n.*$/ n-outer
endif
`

// regexpMalformed holds one broken rule of each kind; the good rules around
// them must still work and the warnings must name file and line.
const regexpMalformed = `/^(a)$/ $2
/^b$/q  badflag
if /^c/
/^cc$/ cc
endif
endif
/^e$/
/^f$/m  mflag
/bad
/^d(/ unbalanced
/^ok$/ ok
if /^g/
/^gg$/ gg
`

const cidrBasic = `# cidr
192.168.1.0/24      lan
192.168.1.5/24      hostbits
10.0.0.1            single
10.0.0.0/8          ten
!172.16.0.0/12      not-private-172
2001:db8::/32       v6doc
2001:db8::1         v6single
[2001:db8:1::]/48   bracketed
::ffff:1.2.3.4      mapped
0.0.0.0/0           catchall
`

const cidrBlocks = `5.6.7.8 multi
  word value
if 10.0.0.0/8
10.1.0.0/16   ten-one
endif
if !192.0.2.0/24
0.0.0.0/0    outside-testnet
endif
300.1.1.1/32   badaddr
10.0.0.0/33    badlen
1.2.3.0/24
::/0   all-v6
`

var postmapCorpus = []tableCase{
	{
		name:  "hash",
		files: map[string]string{"table": indexedSource},
		queries: concat(
			[]query{postmapRun("hash:" + dirToken + "/table")},
			lookups("postmap", "hash:"+dirToken+"/table", indexedKeys...),
			[]query{dump("postmap", "hash:"+dirToken+"/table")},
		),
	},
	{
		name:  "hash default type",
		files: map[string]string{"table": "Key value\nother  thing\n"},
		queries: concat(
			[]query{postmapRun(dirToken + "/table")},
			lookups("postmap", dirToken+"/table", "key", "KEY", "other", "missing"),
			[]query{{prog: "postmap", args: []string{"-q", "other", dirToken + "/table"}, viaEnv: true}},
		),
	},
	{
		name:  "hash CRLF and several maps",
		files: map[string]string{"table": "crlf value\r\nboth from-hash\r\n", "table.re": "/^only-re$/ from-regexp\n/^both$/ regexp-loses\n"},
		queries: concat(
			[]query{postmapRun("hash:" + dirToken + "/table")},
			lookups("postmap", "hash:"+dirToken+"/table", "crlf", "both"),
			[]query{
				{prog: "postmap", args: []string{"-q", "only-re", "hash:" + dirToken + "/table", "regexp:" + dirToken + "/table.re"}},
				{prog: "postmap", args: []string{"-q", "both", "hash:" + dirToken + "/table", "regexp:" + dirToken + "/table.re"}},
				{prog: "postmap", args: []string{"-q", "none", "hash:" + dirToken + "/table", "regexp:" + dirToken + "/table.re"}},
			},
		),
	},
	{
		name:  "hash duplicates replaced or ignored",
		files: map[string]string{"replace": "bob first\nbob second\n", "ignore": "bob first\nbob second\n"},
		queries: []query{
			postmapRun("-r", "hash:"+dirToken+"/replace"),
			{prog: "postmap", args: []string{"-q", "bob", "hash:" + dirToken + "/replace"}},
			postmapRun("-w", "hash:"+dirToken+"/ignore"),
			{prog: "postmap", args: []string{"-q", "bob", "hash:" + dirToken + "/ignore"}},
		},
	},
	{
		name:  "hash without folding",
		files: map[string]string{"table": "Key1 v1\nkey2 v2\n"},
		queries: []query{
			postmapRun("-f", "hash:"+dirToken+"/table"),
			{prog: "postmap", args: []string{"-q", "Key1", "hash:" + dirToken + "/table"}},
			{prog: "postmap", args: []string{"-f", "-q", "Key1", "hash:" + dirToken + "/table"}},
			{prog: "postmap", args: []string{"-f", "-q", "key1", "hash:" + dirToken + "/table"}},
			{prog: "postmap", args: []string{"-f", "-q", "key2", "hash:" + dirToken + "/table"}},
			dump("postmap", "hash:"+dirToken+"/table"),
		},
	},
	{
		name:  "hash edits",
		files: map[string]string{"table": "bob first\n"},
		queries: []query{
			postmapRun("hash:" + dirToken + "/table"),
			{prog: "postmap", args: []string{"-i", "hash:" + dirToken + "/table"}, stdin: "New Value here\nother x\n"},
			{prog: "postmap", args: []string{"-q", "new", "hash:" + dirToken + "/table"}},
			{prog: "postmap", args: []string{"-d", "new", "hash:" + dirToken + "/table"}},
			{prog: "postmap", args: []string{"-q", "new", "hash:" + dirToken + "/table"}},
			{prog: "postmap", args: []string{"-d", "new", "hash:" + dirToken + "/table"}},
			dump("postmap", "hash:"+dirToken+"/table"),
		},
	},
	{
		name:  "btree",
		files: map[string]string{"table": indexedSource},
		queries: concat(
			[]query{postmapRun("btree:" + dirToken + "/table")},
			lookups("postmap", "btree:"+dirToken+"/table", "alice@example.com", "bob", "cont", "nosuch"),
			[]query{dump("postmap", "btree:"+dirToken+"/table")},
		),
	},
	{
		name:  "texthash",
		files: map[string]string{"table": indexedSource},
		queries: concat(
			lookups("postmap", "texthash:"+dirToken+"/table", indexedKeys...),
			[]query{dump("postmap", "texthash:"+dirToken+"/table")},
		),
	},
	{
		name:  "regexp",
		files: map[string]string{"table": regexpBasic},
		queries: lookups("postmap", "regexp:"+dirToken+"/table",
			"JOE@EXAMPLE.COM", "abc@example.com", "abcdef", "ABCDEF", "CaseSens", "casesens",
			"x", "y", "paren", "a(b)", "ab", "keepme", "other", ""),
	},
	{
		name:  "regexp blocks",
		files: map[string]string{"table": regexpBlocks},
		queries: lookups("postmap", "regexp:"+dirToken+"/table",
			"block-aaa", "block-b", "block-c", "yes", "zzy", "eqfoo", "ab", "a b", "multi", "trail",
			"nest", "nesx", "nx"),
	},
	{
		name:    "regexp malformed",
		files:   map[string]string{"table": regexpMalformed},
		queries: lookups("postmap", "regexp:"+dirToken+"/table", "a", "b", "cc", "e", "f", "ok", "gg"),
	},
	{
		// Postfix regexps are POSIX EREs: \d is not a digit class there.
		name:    "regexp perl-only escapes",
		files:   map[string]string{"table": "/^mx(\\d+)$/ perl-digit\n/^ok$/ ok\n"},
		queries: lookups("postmap", "regexp:"+dirToken+"/table", "mx12", "mxd", "ok"),
	},
	{
		name:  "cidr",
		files: map[string]string{"table": cidrBasic},
		queries: lookups("postmap", "cidr:"+dirToken+"/table",
			"192.168.1.7", "192.168.1.5", "10.0.0.1", "10.9.9.9", "172.16.0.1", "8.8.8.8",
			"2001:db8::1", "2001:DB8::2", "2001:db8:1::5", "::ffff:1.2.3.4", "1.2.3.4", "fe80::1",
			"notanip", "[2001:db8::1]", "192.168.001.7"),
	},
	{
		name:  "cidr blocks and malformed",
		files: map[string]string{"table": cidrBlocks},
		queries: lookups("postmap", "cidr:"+dirToken+"/table",
			"5.6.7.8", "10.1.2.3", "10.2.2.2", "192.0.2.1", "8.8.8.8", "1.2.3.4", "::1"),
	},
	{
		name: "inline and static",
		queries: concat(
			lookups("postmap", "inline:{ a=1, B=2 {c=spaced value} }", "a", "A", "b", "B", "c", "d"),
			lookups("postmap", "static:abc", "anything", ""),
			lookups("postmap", "static:{ some text }", "anything"),
			[]query{dump("postmap", "inline:{a=1, B=2}")},
		),
	},
	{
		name: "errors",
		queries: []query{
			{prog: "postmap", args: []string{"-q", "bob", "hash:" + dirToken + "/missing"}},
			{prog: "postmap", args: []string{"-q", "bob", "nosuchtype:" + dirToken + "/x"}},
			{prog: "postmap", args: []string{"-q", "bob", "regexp:" + dirToken + "/missing"}},
			{prog: "postmap", args: []string{"-q", "bob", "cidr:" + dirToken + "/missing"}},
			{prog: "postmap", args: []string{"-q", "bob", "texthash:" + dirToken + "/missing"}},
			postmapRun("hash:" + dirToken + "/missing"),
			{prog: "postmap", args: []string{"-q", "a", "inline:{}"}},
			{prog: "postmap", args: []string{"-q", "a", "inline:{a}"}},
			{prog: "postmap", args: []string{"-q", "a", "inline:{a=}"}},
		},
	},
}

// tableExclusions are the queries where Postern's postmap or postalias
// differs from Postfix's on purpose, keyed by "CASE: COMMAND", with the
// reason.
var tableExclusions = map[string]string{}

func TestDifferentialPostmap(t *testing.T) {
	runTableCorpus(t, postmapCorpus)
}

func runTableCorpus(t *testing.T, corpus []tableCase) {
	pf := realPostfix(t)
	for _, c := range corpus {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			// An explicit level, as stock main.cf files set, so the
			// smtputf8_enable default (UTF-8 key folding) is the same.
			files := map[string]string{"main.cf": "compatibility_level = 3.6\n", "master.cf": standardMasterCF}
			for name, content := range c.files {
				files[name] = content
			}
			tw := newTwin(t, files)
			exclusions := prefixedExclusions(c.name, tableExclusions)
			for _, q := range c.queries {
				t.Run(q.label(), func(t *testing.T) {
					differential(t, pf, tw, q, exclusions)
				})
			}
			if t.Failed() {
				t.Logf("files of case %q:\n%s", c.name, tw.describe())
			}
		})
	}
}
