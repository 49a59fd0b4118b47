// Change notification: a Watcher tells a daemon that a file behind one of
// its tables was replaced or edited, so it can reopen the table or restart.

package maps

import (
	"fmt"
	"path/filepath"
	"sync"

	"github.com/fsnotify/fsnotify"
)

// Change says that File, which backs the table Spec, changed.
type Change struct {
	Spec string
	File string
}

// String is Postfix's log text for a changed table.
func (c Change) String() string {
	return fmt.Sprintf("table %s has changed -- restarting", c.Spec)
}

// Watcher watches the files behind tables. It watches their directories,
// not the files themselves, because postmap replaces a NAME.db by
// renaming a new file over it.
type Watcher struct {
	notify  *fsnotify.Watcher
	changes chan Change
	errs    chan error
	done    chan struct{}
	closing sync.Once

	mu    sync.Mutex
	specs map[string][]string // cleaned file path -> specs of tables it backs
	dirs  map[string]bool
}

// NewWatcher starts a Watcher. Read Changes (and Errors) until Close.
func NewWatcher() (*Watcher, error) {
	notify, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("watch tables: %w", err)
	}
	w := &Watcher{
		notify:  notify,
		changes: make(chan Change, 16),
		errs:    make(chan error, 4),
		done:    make(chan struct{}),
		specs:   map[string][]string{},
		dirs:    map[string]bool{},
	}
	go w.run()
	return w, nil
}

// Add watches the files behind t (see FileBacked). A table without files,
// such as inline or static, needs no watching and is accepted as is.
func (w *Watcher) Add(t Table) error {
	for _, file := range FilesOf(t) {
		if err := w.AddFile(file, t.Spec()); err != nil {
			return err
		}
	}
	return nil
}

// AddFile watches one file on behalf of the table spec.
func (w *Watcher) AddFile(file, spec string) error {
	abs, err := filepath.Abs(file)
	if err != nil {
		return fmt.Errorf("watch %s: %w", file, err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	dir := filepath.Dir(abs)
	if !w.dirs[dir] {
		if err := w.notify.Add(dir); err != nil {
			return fmt.Errorf("watch %s: %w", dir, err)
		}
		w.dirs[dir] = true
	}
	w.specs[abs] = append(w.specs[abs], spec)
	return nil
}

// Changes delivers one Change per event on a watched file, per table.
func (w *Watcher) Changes() <-chan Change { return w.changes }

// Errors delivers errors from the notification system.
func (w *Watcher) Errors() <-chan error { return w.errs }

// Close stops watching and closes the Changes and Errors channels. It
// may be called more than once.
func (w *Watcher) Close() error {
	var err error
	w.closing.Do(func() {
		close(w.done)
		err = w.notify.Close()
	})
	return err
}

func (w *Watcher) run() {
	defer close(w.changes)
	defer close(w.errs)
	for {
		select {
		case <-w.done:
			return
		case event, ok := <-w.notify.Events:
			if !ok {
				return
			}
			w.mu.Lock()
			specs := append([]string(nil), w.specs[filepath.Clean(event.Name)]...)
			w.mu.Unlock()
			for _, spec := range specs {
				select {
				case w.changes <- Change{Spec: spec, File: event.Name}:
				case <-w.done:
					return
				}
			}
		case err, ok := <-w.notify.Errors:
			if !ok {
				return
			}
			select {
			case w.errs <- err:
			case <-w.done:
				return
			}
		}
	}
}
