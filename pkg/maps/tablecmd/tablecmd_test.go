// In-process tests of postmap/postalias/newaliases behaviour: output,
// warnings and exit status for each option.

package tablecmd

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// step is one command run inside a scenario's directory.
type step struct {
	tool   Tool
	prog   string
	args   []string
	stdin  string
	stdout string
	stderr string
	status int
}

// runSteps runs steps in a fresh directory holding files and a main.cf.
func runSteps(t *testing.T, mainCF string, files map[string]string, steps []step) {
	t.Helper()
	dir := t.TempDir()
	t.Chdir(dir)
	os.WriteFile(filepath.Join(dir, "main.cf"), []byte(mainCF), 0o644)
	for name, content := range files {
		os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644)
	}
	for i, s := range steps {
		var stdout, stderr bytes.Buffer
		prog := s.prog
		if prog == "" {
			prog = map[Tool]string{Postmap: "postmap", Postalias: "postalias"}[s.tool]
		}
		env := Env{Stdin: strings.NewReader(s.stdin), Stdout: &stdout, Stderr: &stderr,
			Getenv: func(string) string { return dir }}
		status := Run(s.tool, prog, s.args, env)
		if status != s.status || stdout.String() != s.stdout || stderr.String() != s.stderr {
			t.Errorf("step %d: %s %q\n got status %d stdout %q stderr %q\nwant status %d stdout %q stderr %q",
				i, prog, s.args, status, stdout.String(), stderr.String(), s.status, s.stdout, s.stderr)
		}
	}
}

const table = "key1 val1\nKEY2   val2  \ncont first,   \n   second\nbadline\n\"quoted key\" qv\ndup one\ndup two\n"

func TestPostmapBuildAndQuery(t *testing.T) {
	runSteps(t, "", map[string]string{"t": table}, []step{
		{args: []string{"t"}, stderr: "postmap: warning: t, line 5: expected format: key whitespace value\npostmap: warning: t.db: duplicate entry: \"dup\"\n"},
		{args: []string{"-q", "KEY1", "t"}, stdout: "val1\n"},
		{args: []string{"-q", "cont", "hash:t"}, stdout: "first,      second\n"},
		{args: []string{"-q", `"quoted key"`, "t"}, stdout: "qv\n"},
		{args: []string{"-q", "dup", "t"}, stdout: "one\n"},
		{args: []string{"-q", "nope", "t"}, status: 1},
		{args: []string{"-fq", "KEY1", "t"}, status: 1},
		{args: []string{"-q", "key2", "inline:{a=b}", "t"}, stdout: "val2\n"},
		{args: []string{"-q", "-", "t"}, stdin: "key1\nnope\nKEY2\n", stdout: "key1\tval1\nKEY2\tval2\n"},
		{args: []string{"-q", "-", "t"}, stdin: "nope\n", status: 1},
		{args: []string{"-s", "t"}, stdout: "\"quoted key\"\tqv\ncont\tfirst,      second\ndup\tone\nkey1\tval1\nkey2\tval2\n"},
		{args: []string{"-q", "x", "-q", "y", "t"}, status: 1, stderr: "postmap: fatal: specify only one of -s -q or -d\n"},
		{args: []string{"-q", "x", "missing"}, status: 1, stderr: "postmap: fatal: open database missing.db: No such file or directory\n"},
		{args: []string{"missing"}, status: 1, stderr: "postmap: fatal: open missing: No such file or directory\n"},
		{args: []string{"-q", "x", "nosuch:t"}, status: 1, stderr: "postmap: fatal: unsupported dictionary type: nosuch\n"},
		{args: []string{"texthash:t"}, status: 1, stderr: "postmap: fatal: unsupported dictionary type: texthash does not support bulk-mode creation.\n"},
		{args: []string{"-s", "static:x"}, status: 1, stderr: "postmap: fatal: table static:x: sequence operation is not supported\n"},
		{args: []string{"-Z", "t"}, status: 1, stderr: "postmap: invalid option -- 'Z'\npostmap: fatal: usage: postmap [-bfhimnNoprsuUvw] [-c config_dir] [-d key] [-q key] [map_type:]file...\n"},
		{args: []string{"-q", "x"}, status: 1, stderr: "postmap: fatal: usage: postmap [-bfhimnNoprsuUvw] [-c config_dir] [-d key] [-q key] [map_type:]file...\n"},
	})
}

func TestPostmapDuplicatesAndFolding(t *testing.T) {
	runSteps(t, "", map[string]string{"t": "Dup one\ndup two\n"}, []step{
		{args: []string{"-r", "t"}},
		{args: []string{"-q", "dup", "t"}, stdout: "two\n"},
		{args: []string{"-w", "t"}},
		{args: []string{"-q", "dup", "t"}, stdout: "one\n"},
		{args: []string{"-f", "t"}},
		{args: []string{"-s", "t"}, stdout: "Dup\tone\ndup\ttwo\n"},
		{args: []string{"-q", "DUP", "texthash:t"}, stdout: "one\n", stderr: "postmap: warning: t, line 2: duplicate entry: \"dup\"\n"},
	})
}

func TestPostmapUpdateAndDelete(t *testing.T) {
	runSteps(t, "", map[string]string{"t": "key1 val1\nkey2 val2\n"}, []step{
		{args: []string{"t"}},
		{args: []string{"-i", "t"}, stdin: "New VAL\nkey1 other\nbad\n",
			stderr: "postmap: warning: t.db: duplicate entry: \"key1\"\npostmap: warning: stdin, line 3: expected format: key whitespace value\n"},
		{args: []string{"-s", "t"}, stdout: "key1\tval1\nkey2\tval2\nnew\tVAL\n"},
		{args: []string{"-ri", "t"}, stdin: "key1 other\n"},
		{args: []string{"-q", "key1", "t"}, stdout: "other\n"},
		{args: []string{"-d", "KEY1", "t"}},
		{args: []string{"-d", "key1", "t"}, status: 1},
		{args: []string{"-d", "-", "t"}, stdin: "nope\nnew\n"},
		{args: []string{"-s", "t"}, stdout: "key2\tval2\n"},
		{args: []string{"-d", "x", "texthash:t"}, status: 1, stderr: "postmap: fatal: unsupported dictionary type: texthash does not support bulk-mode creation.\n"},
		{args: []string{"-i", "fresh"}, stdin: "a b\n"},
		{args: []string{"-q", "a", "fresh"}, stdout: "b\n"},
	})
}

func TestPostmapConfig(t *testing.T) {
	runSteps(t, "default_database_type = btree\n", map[string]string{"t": "a b\n"}, []step{
		{args: []string{"t"}},
		{args: []string{"-q", "a", "btree:t"}, stdout: "b\n"},
		{args: []string{"-c", "/nonexistent", "t"}, status: 1, stderr: "postmap: fatal: open /nonexistent/main.cf: No such file or directory\n"},
	})
}

const aliasFile = "postmaster: root\nRoot: admin, other@example.com,\n   |\"/usr/bin/foo bar\", /var/mail/x\n\"quoted name\": x\nbad line\nA@B: x\ndup: a\ndup: b\n"

func TestPostalias(t *testing.T) {
	runSteps(t, "myhostname = mail.example.com\n", map[string]string{"aliases": aliasFile}, []step{
		{tool: Postalias, args: []string{"aliases"}, stderr: "postalias: warning: aliases, line 5: need name:value pair\n" +
			"postalias: warning: aliases, line 6: name must be local\npostalias: warning: aliases.db: duplicate entry: \"dup\"\n"},
		{tool: Postalias, args: []string{"-q", "ROOT", "aliases"}, stdout: "admin, other@example.com, |\"/usr/bin/foo bar\", /var/mail/x\n"},
		{tool: Postalias, args: []string{"-q", "quoted name", "aliases"}, stdout: "x\n"},
		{tool: Postalias, args: []string{"-q", "@", "aliases"}, stdout: "@\n"},
		{tool: Postalias, args: []string{"-q", "YP_MASTER_NAME", "aliases"}, status: 1},
		{tool: Postalias, args: []string{"-fq", "YP_MASTER_NAME", "aliases"}, stdout: "mail.example.com\n"},
		{tool: Postalias, args: []string{"-q", "-", "aliases"}, stdin: "postmaster\nnope\ndup\n", stdout: "postmaster:\troot\ndup:\ta\n"},
		{tool: Postalias, args: []string{"-i", "aliases"}, stdin: "k: v\nbad\n", stderr: "postalias: warning: stdin, line 2: need name:value pair\n"},
		{tool: Postalias, args: []string{"-d", "postmaster", "aliases"}},
		{tool: Postalias, args: []string{"-q", "k", "aliases"}, stdout: "v\n"},
		{tool: Postalias, args: []string{"-q", "postmaster", "aliases"}, status: 1},
	})
}

func TestNewaliases(t *testing.T) {
	runSteps(t, "alias_database = hash:$config_directory/a1, btree:$config_directory/a2\n",
		map[string]string{"a1": "x: y\n", "a2": "z: w\n"}, []step{
			{tool: Postalias, prog: "newaliases"},
			{tool: Postalias, args: []string{"-q", "x", "a1"}, stdout: "y\n"},
			{tool: Postalias, args: []string{"-q", "z", "btree:a2"}, stdout: "w\n"},
			{tool: Postalias, prog: "newaliases", args: []string{"-x"}, status: 1, stderr: "newaliases: fatal: usage: newaliases\n"},
		})
}

func TestBuildRunsAsSourceOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to change owners")
	}
	const nobody = 65534
	for _, tt := range []struct {
		args      []string
		wantOwner int
	}{
		{[]string{"t"}, nobody},
		{[]string{"-o", "t"}, 0},
	} {
		dir := t.TempDir()
		t.Chdir(dir)
		os.Chmod(dir, 0o777)
		os.WriteFile("main.cf", nil, 0o644)
		os.WriteFile("t", []byte("a b\n"), 0o640)
		os.Chown("t", nobody, nobody)
		var stderr bytes.Buffer
		env := Env{Stdin: strings.NewReader(""), Stdout: &stderr, Stderr: &stderr, Getenv: func(string) string { return dir }}
		if status := Run(Postmap, "postmap", tt.args, env); status != 0 {
			t.Fatalf("postmap %q: status %d: %s", tt.args, status, stderr.String())
		}
		if os.Geteuid() != 0 {
			t.Fatal("postmap did not switch back to root")
		}
		info, err := os.Stat("t.db")
		if err != nil {
			t.Fatal(err)
		}
		st := info.Sys().(*syscall.Stat_t)
		if int(st.Uid) != tt.wantOwner || info.Mode().Perm() != 0o640 {
			t.Errorf("postmap %q: t.db owned by %d mode %v, want %d mode 0640", tt.args, st.Uid, info.Mode().Perm(), tt.wantOwner)
		}
	}
}

func TestDeleteFromSeveralTablesInOneDirectory(t *testing.T) {
	runSteps(t, "", map[string]string{"t1": "a 1\n", "t2": "a 2\nb 3\n"}, []step{
		{args: []string{"t1", "t2"}},
		{args: []string{"-d", "a", "t1", "t2"}},
		{args: []string{"-q", "a", "t1", "t2"}, status: 1},
		{args: []string{"-q", "b", "t1", "t2"}, stdout: "3\n"},
		{args: []string{"-d", "b", "t1"}, status: 1},
	})
}
