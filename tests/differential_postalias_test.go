// Differential test of postalias: aliases(5) files built and queried by the real postalias and by Postern's.

package tests

import (
	"regexp"
	"testing"
)

const aliasesSource = `# aliases
postmaster: root
Root:   admin, 
    other@example.com,
	third
"quoted name": qn
pipe: "|/usr/bin/procmail -a x"
file: /var/mail/file
inc: :include:/etc/postfix/inc
dup: first
dup: second
nocolon value
empty:
  # comment
owner-list: admin
list: a,b ,  c
`

// ypLastModified hides the build time postalias stores in every table.
var ypLastModified = replaceAll(regexp.MustCompile(`(?m)^(YP_LAST_MODIFIED:?\t)\d+$`), "${1}<time>")

var postaliasCorpus = []tableCase{
	{
		name:  "aliases",
		files: map[string]string{"aliases": aliasesSource},
		queries: concat(
			[]query{{prog: "postalias", args: []string{"hash:" + dirToken + "/aliases"}}},
			lookups("postalias", "hash:"+dirToken+"/aliases",
				"postmaster", "root", "ROOT", `"quoted name"`, "quoted name", "pipe", "file", "inc",
				"dup", "nocolon", "empty", "@", "YP_LAST_MODIFIED", "owner-list", "list", "nosuch"),
			[]query{{prog: "postalias", args: []string{"-s", "hash:" + dirToken + "/aliases"},
				sortStdout: true, normalize: ypLastModified}},
		),
	},
	{
		name:  "aliases default type",
		files: map[string]string{"aliases": "MAILER-DAEMON: postmaster\npostmaster: root\n"},
		queries: concat(
			[]query{{prog: "postalias", args: []string{dirToken + "/aliases"}}},
			lookups("postalias", dirToken+"/aliases", "mailer-daemon", "postmaster"),
		),
	},
	{
		name: "aliases malformed",
		files: map[string]string{"aliases": `good: ok
no colon here
: no name
"unterminated: x
  continued, lines
dup: one
DUP: two
trailing:   spaces   
`},
		queries: concat(
			[]query{{prog: "postalias", args: []string{"hash:" + dirToken + "/aliases"}}},
			lookups("postalias", "hash:"+dirToken+"/aliases", "good", "no", `"unterminated`, "dup", "trailing"),
		),
	},
	{
		name: "newaliases builds alias_database",
		files: map[string]string{
			"main.cf": "alias_database = hash:${config_directory}/aliases, hash:${config_directory}/more\n",
			"aliases": "root: admin\nPostmaster: root\n",
			"more":    "extra: someone\n",
		},
		queries: concat(
			[]query{{prog: "newaliases", viaEnv: true, unprivileged: true}},
			lookups("postalias", "hash:"+dirToken+"/aliases", "root", "postmaster"),
			lookups("postalias", "hash:"+dirToken+"/more", "extra"),
		),
	},
	{
		name:  "aliases missing",
		files: map[string]string{},
		queries: []query{
			{prog: "postalias", args: []string{"hash:" + dirToken + "/aliases"}},
			{prog: "postalias", args: []string{"-q", "root", "hash:" + dirToken + "/aliases"}},
		},
	},
}

func TestDifferentialPostalias(t *testing.T) {
	runTableCorpus(t, postaliasCorpus)
}
