// postmap -b, -h and -m: lookup keys taken from a message on standard
// input, as header_checks and body_checks see it.

package tablecmd

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/postern/postern/pkg/maps"
	"github.com/postern/postern/pkg/mimestate"
)

// errHeadersDone stops the scan after the primary headers (-h without -b).
var errHeadersDone = errors.New("primary headers done")

// messageKeys looks up each header (-h) or body line (-b) of the message.
type messageKeys struct {
	c      *command
	specs  []string
	tables []maps.Table
	found  bool
}

func (m *messageKeys) Header(_ mimestate.Class, text []byte) error {
	if !m.c.headerKeys {
		return nil
	}
	return m.query(string(text))
}

func (m *messageKeys) EndPrimary() error {
	if !m.c.bodyKeys && !m.c.mimeKeys {
		return errHeadersDone
	}
	return nil
}

func (m *messageKeys) Body(line []byte) error {
	if !m.c.bodyKeys {
		return nil
	}
	return m.query(string(line))
}

func (m *messageKeys) query(key string) error {
	for i, spec := range m.specs {
		if m.tables[i] == nil {
			t, err := m.c.open(spec)
			if err != nil {
				return err
			}
			m.tables[i] = t
		}
		value, found, err := m.c.lookup(m.tables[i], key)
		if err != nil {
			return err
		}
		if found {
			fmt.Fprintf(m.c.stdout, "%s\t%s\n", key, value)
			m.found = true
			return nil
		}
	}
	return nil
}

// queryMessage reads a message from standard input and queries every
// table with its headers and/or body lines.
func (c *command) queryMessage(specs []string) (int, error) {
	m := &messageKeys{c: c, specs: specs, tables: make([]maps.Table, len(specs))}
	defer func() {
		for _, t := range m.tables {
			if t != nil {
				t.Close()
			}
		}
	}()
	sc := mimestate.New(m, !c.mimeKeys)
	br := bufio.NewReader(c.env.Stdin)
	for {
		line, readErr := br.ReadBytes('\n')
		if len(line) > 0 {
			err := sc.Line(bytes.TrimSuffix(line, []byte("\n")))
			if errors.Is(err, errHeadersDone) {
				break
			}
			if err != nil {
				return 1, err
			}
		}
		if errors.Is(readErr, io.EOF) {
			if err := sc.End(); err != nil && !errors.Is(err, errHeadersDone) {
				return 1, err
			}
			break
		}
		if readErr != nil {
			return 1, fatalf("read standard input: %v", readErr)
		}
	}
	if m.found {
		return 0, nil
	}
	return 1, nil
}
