// The postsuper requests: which queues each one touches and what it does to one file.

package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/postern/postern/pkg/queue"
	"github.com/postern/postern/pkg/queue/cli"
)

// action is one kind of request.
type action int

const (
	remove action = iota
	hold
	release
	requeue
	expire
)

// actionInfo is what differs between requests.
type actionInfo struct {
	// defaults are the queues searched when no queue name is given.
	defaults []string
	// done is the per-message line ("placed on hold"), summary the count's.
	done, summary string
}

var actions = map[action]actionInfo{
	remove:  {[]string{queue.Maildrop, queue.Hold, queue.Incoming, queue.Active, queue.Deferred}, "removed", "Deleted"},
	hold:    {[]string{queue.Incoming, queue.Active, queue.Deferred}, "placed on hold", "Placed on hold"},
	release: {[]string{queue.Hold}, "released from hold", "Released from hold"},
	requeue: {[]string{queue.Hold, queue.Incoming, queue.Active, queue.Deferred}, "requeued", "Requeued"},
	expire:  {[]string{queue.Hold, queue.Incoming, queue.Active, queue.Deferred}, "expired", "Force-expired"},
}

// super carries out requests on the queue.
type super struct {
	tool  *cli.Tool
	scope []string // queue names given on the command line
}

// queues returns the queues a request looks in: those named on the
// command line, or its defaults; never the queue a file would move to.
func (s *super) queues(a action) []string {
	qs := actions[a].defaults
	if len(s.scope) > 0 {
		qs = s.scope
	}
	var out []string
	for _, q := range qs {
		switch {
		case a == hold && q == queue.Hold, a == requeue && q == queue.Maildrop:
		case a == release && q != queue.Hold:
		default:
			out = append(out, q)
		}
	}
	return out
}

// perform carries out a request for ids ("ALL" meaning every message in
// the request's queues) and returns how many messages it changed.
func (s *super) perform(a action, ids []string) (int, error) {
	count := 0
	for _, id := range ids {
		if id == "ALL" {
			for _, q := range s.queues(a) {
				err := s.tool.Layout.Walk(q, func(e queue.Entry) error {
					if q == queue.Incoming && queue.Unborn(e.Path) {
						return nil // a cleanup's reserved file, not a message yet
					}
					changed, err := s.apply(a, e)
					if changed {
						count++
					}
					return err
				})
				if err != nil {
					return count, err
				}
			}
			continue
		}
		if !queue.ValidID(id) {
			s.tool.Log.Warning("invalid mail queue id: %s", id)
			continue
		}
		for _, q := range s.queues(a) {
			e := queue.Entry{Queue: q, ID: id, Path: s.tool.Layout.Path(q, id)}
			if _, err := os.Lstat(e.Path); err != nil {
				continue
			}
			changed, err := s.apply(a, e)
			if err != nil {
				return count, err
			}
			if changed {
				count++
				s.tool.Log.Info("%s: %s", id, actions[a].done)
			}
		}
	}
	return count, nil
}

// apply does a request to one file. A file that vanished meanwhile (the
// queue manager moved it) is not an error and not counted.
func (s *super) apply(a action, e queue.Entry) (bool, error) {
	l := s.tool.Layout
	var err error
	switch a {
	case remove:
		err = l.RemoveEntry(e)
	case hold:
		err = l.MoveEntry(e, queue.Hold)
	case release:
		err = l.MoveEntry(e, queue.Deferred)
	case requeue:
		err = l.RequeueEntry(e)
	case expire:
		var expired bool
		if expired, err = isForcedExpired(e.Path); err == nil && expired {
			return false, nil
		}
		if err == nil {
			err = l.SetForcedExpire(e.Queue, e.ID)
		}
	}
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("%s: %w", e.ID, err)
	}
	return true, nil
}

func isForcedExpired(path string) (bool, error) {
	st, err := os.Stat(path)
	if err != nil {
		return false, err
	}
	return queue.ModeForcedExpired(st.Mode()), nil
}
