// Tests of the MIME scanner: header classes, boundaries, and a fuzz test
// that every input line comes out exactly once.

package mimestate

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

type recorder struct{ out []string }

func (r *recorder) Header(c Class, text []byte) error {
	r.out = append(r.out, fmt.Sprintf("H%d %s", c, text))
	return nil
}
func (r *recorder) EndPrimary() error { r.out = append(r.out, "EOH"); return nil }
func (r *recorder) Body(line []byte) error {
	r.out = append(r.out, "B "+string(line))
	return nil
}

func scan(t testing.TB, msg string, disable bool) []string {
	r := &recorder{}
	s := New(r, disable)
	for _, l := range strings.Split(strings.TrimSuffix(msg, "\n"), "\n") {
		if err := s.Line([]byte(l)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.End(); err != nil {
		t.Fatal(err)
	}
	return r.out
}

func TestClasses(t *testing.T) {
	msg := "Subject: a\n\tb\nContent-Type: multipart/mixed; boundary=\"X\"\n\npre\n--X\nContent-Type: message/rfc822\n\nSubject: inner\n\nbody\n--X--\nend\n"
	got := strings.Join(scan(t, msg, false), "|")
	want := "H1 Subject: a\n\tb|H1 Content-Type: multipart/mixed; boundary=\"X\"|EOH|B |B pre|B --X|H2 Content-Type: message/rfc822|B |H3 Subject: inner|B |B body|B --X--|B end"
	if got != want {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
	got = strings.Join(scan(t, msg, true), "|")
	if strings.Contains(got, "H2") || strings.Contains(got, "H3") {
		t.Errorf("MIME disabled but part headers found: %q", got)
	}
}

func TestGarbageEndsPrimaryHeaders(t *testing.T) {
	got := strings.Join(scan(t, "Subject: x\nnot a header\n", false), "|")
	if want := "H1 Subject: x|EOH|B |B not a header"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// FuzzScanner checks that no input panics and that every input line is
// passed on once, as a header line or a body line.
func FuzzScanner(f *testing.F) {
	f.Add([]byte("Subject: a\n\tb\nContent-Type: multipart/mixed; boundary=X\n\n--X\nContent-Type: message/rfc822\n\nA: b\n\nx\n--X--\n"))
	f.Add([]byte("Content-Type: multipart/digest; boundary=\"\"\n\n--\n\n--\n"))
	f.Add([]byte("X:\n \n\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		lines := bytes.Split(data, []byte("\n"))
		r := &recorder{}
		s := New(r, false)
		for _, l := range lines {
			if err := s.Line(l); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.End(); err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, o := range r.out {
			switch {
			case o == "EOH":
			case strings.HasPrefix(o, "H"):
				n += strings.Count(o, "\n") + 1
			default:
				n++
			}
		}
		// The scanner may add one empty line after primary headers that
		// end without one.
		if n != len(lines) && n != len(lines)+1 {
			t.Fatalf("%d lines in, %d out: %q", len(lines), n, r.out)
		}
	})
}
