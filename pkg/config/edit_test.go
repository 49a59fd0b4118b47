// edit_test.go checks postconf -e, -X and -# edits of main.cf.

package config

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

const editInput = "# head\nmyorigin = a\n  b\n\n# c\n\tc\nrelayhost = x\n   y\nlast = 1\n"

func TestEditMainCF(t *testing.T) {
	tests := []struct {
		name     string
		input    string
		edit     func(path string, warn func(string)) error
		want     string
		warnings []string
	}{
		{
			name:  "replace in place and append",
			input: editInput,
			edit: func(p string, w func(string)) error {
				return SetInMainCF(p, []Setting{{Name: "myorigin", Value: "new  val"}, {Name: "mydomain", Value: "d"}}, w)
			},
			want: "# head\nmyorigin = new  val\n\n# c\nrelayhost = x\n   y\nlast = 1\nmydomain = d\n",
		},
		{
			name:  "every duplicate is replaced",
			input: "myorigin = a\nx = 1\nmyorigin = b\n",
			edit: func(p string, w func(string)) error {
				return SetInMainCF(p, []Setting{{Name: "myorigin", Value: "c"}}, w)
			},
			want:     "myorigin = c\nx = 1\nmyorigin = c\n",
			warnings: []string{`main.cf: multiple entries for "myorigin"`},
		},
		{
			name:  "append after a last line without newline",
			input: "a = 1",
			edit: func(p string, w func(string)) error {
				return SetInMainCF(p, []Setting{{Name: "b", Value: "2"}}, w)
			},
			want: "a = 1\nb = 2\n",
		},
		{
			name:  "remove keeps blank and comment lines",
			input: editInput,
			edit:  func(p string, w func(string)) error { return RemoveFromMainCF(p, []string{"myorigin", "nothere"}, w) },
			want:  "# head\n\n# c\nrelayhost = x\n   y\nlast = 1\n",
		},
		{
			name:  "comment out every line of the entry",
			input: editInput,
			edit: func(p string, w func(string)) error {
				return CommentOutInMainCF(p, []string{"myorigin", "relayhost"}, w)
			},
			want: "# head\n#myorigin = a\n#  b\n\n# c\n#\tc\n#relayhost = x\n#   y\nlast = 1\n",
		},
		{
			name:  "untouched file without final newline stays so",
			input: "a = 1\nb = 2",
			edit:  func(p string, w func(string)) error { return RemoveFromMainCF(p, []string{"a"}, w) },
			want:  "b = 2",
		},
		{
			name:  "malformed lines are kept",
			input: "garbage line\nrelayhost = x\n",
			edit: func(p string, w func(string)) error {
				return SetInMainCF(p, []Setting{{Name: "relayhost", Value: "y"}}, w)
			},
			want: "garbage line\nrelayhost = y\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "main.cf")
			if err := os.WriteFile(path, []byte(tt.input), 0o640); err != nil {
				t.Fatal(err)
			}
			var warnings []string
			err := tt.edit(path, func(w string) { warnings = append(warnings, filepath.Base(w[:len(path)])+w[len(path):]) })
			if err != nil {
				t.Fatal(err)
			}
			got, _ := os.ReadFile(path)
			if string(got) != tt.want {
				t.Errorf("main.cf =\n%q\nwant\n%q", got, tt.want)
			}
			if !reflect.DeepEqual(warnings, tt.warnings) {
				t.Errorf("warnings = %q, want %q", warnings, tt.warnings)
			}
			fi, _ := os.Stat(path)
			if fi.Mode().Perm() != 0o640 {
				t.Errorf("mode = %v, want 0640", fi.Mode().Perm())
			}
			entries, _ := os.ReadDir(dir)
			if len(entries) != 1 {
				t.Errorf("temporary files left: %v", entries)
			}
		})
	}
}

func TestEditMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "main.cf")
	err := SetInMainCF(path, []Setting{{Name: "a", Value: "1"}}, nil)
	if err == nil || err.Error() != "open "+path+" for reading: No such file or directory" {
		t.Errorf("error = %v", err)
	}
}
