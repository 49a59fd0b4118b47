// postqueue -f, -i and -s: wake the queue manager through its public trigger socket.

package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/queue"
	"github.com/postern/postern/pkg/queue/cli"
)

const (
	qmgrService    = "public/qmgr"
	triggerTimeout = 10 * time.Second
)

// mailSystemUp checks that qmgr's socket exists, warning and failing as
// Postfix does when it does not.
func mailSystemUp(tool *cli.Tool) int {
	if _, err := os.Stat(qmgrPath(tool)); err != nil {
		tool.Log.Warning("unable to look up %s: %s", qmgrService, cli.Strerror(err))
		return tool.Fatal(cli.ExitUnavailable, "Cannot flush mail queue - mail system is down")
	}
	return cli.ExitOK
}

func qmgrPath(tool *cli.Tool) string {
	return filepath.Join(tool.Layout.Root, filepath.FromSlash(qmgrService))
}

// trigger sends codes to qmgr; when nothing listens it warns and fails
// as Postfix does ("Cannot flush mail queue - mail system is down").
func trigger(tool *cli.Tool, codes ...ipc.TriggerCode) int {
	if status := mailSystemUp(tool); status != cli.ExitOK {
		return status
	}
	path := qmgrPath(tool)
	ctx, cancel := context.WithTimeout(context.Background(), triggerTimeout)
	defer cancel()
	if err := ipc.SendTrigger(ctx, path, codes...); err != nil {
		tool.Log.Warning("connect to %s: %s", qmgrService, cli.Strerror(err))
		return tool.Fatal(cli.ExitUnavailable, "Cannot flush mail queue - mail system is down")
	}
	return cli.ExitOK
}

// flushAll is postqueue -f: forget dead destinations, then scan every
// queue ignoring retry times.
func flushAll(tool *cli.Tool) int {
	return trigger(tool, ipc.TriggerFlushDead, ipc.TriggerScanAll, ipc.TriggerScanDeferred, ipc.TriggerScanIncoming)
}

// flushID is postqueue -i: a deferred message goes back to incoming for an
// immediate attempt. An ID that is not deferred is not an error.
func flushID(tool *cli.Tool, id string) int {
	if !queue.ValidID(id) {
		return tool.Fatal(cli.ExitUsage, "invalid mail queue id: %s", id)
	}
	if status := mailSystemUp(tool); status != cli.ExitOK {
		return status
	}
	err := tool.Layout.Move(id, queue.Deferred, queue.Incoming)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return tool.Fatal(cli.ExitUnavailable, "%v", err)
	}
	return trigger(tool, ipc.TriggerScanIncoming)
}

// flushSite is postqueue -s: the site must be in fast_flush_domains;
// deferred messages with a pending recipient there go back to incoming,
// marked so that defer_transports does not hold them.
func flushSite(tool *cli.Tool, site string) int {
	allowed, err := fastFlushAllowed(tool, site)
	if err != nil {
		return tool.Fatal(cli.ExitUnavailable, "%v", err)
	}
	if !allowed {
		return tool.Fatal(cli.ExitUnavailable, "Flush service is not configured for destination \"%s\"", site)
	}
	if status := mailSystemUp(tool); status != cli.ExitOK {
		return status
	}
	var moveErr error
	err = tool.Layout.Walk(queue.Deferred, func(e queue.Entry) error {
		m, err := tool.Layout.Load(queue.Deferred, e.ID, nil)
		if err != nil {
			return nil
		}
		for _, r := range m.Pending() {
			if strings.EqualFold(domainOf(r.Address), site) {
				// Marked first: the queue manager may take the file as
				// soon as it is in incoming/. The mark lifts
				// defer_transports for its next attempt.
				err := queue.SetUnthrottled(e.Path, true)
				if err == nil {
					err = tool.Layout.MoveEntry(e, queue.Incoming)
				}
				if err != nil && moveErr == nil {
					moveErr = err
				}
				return nil
			}
		}
		return nil
	})
	if err == nil {
		err = moveErr
	}
	if err != nil {
		return tool.Fatal(cli.ExitUnavailable, "%v", err)
	}
	return trigger(tool, ipc.TriggerScanIncoming)
}

func domainOf(addr string) string {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return ""
	}
	return addr[at+1:]
}

// fastFlushAllowed matches site against the domains listed in
// fast_flush_domains: the domain itself, and its subdomains when
// parent_domain_matches_subdomains names fast_flush_domains. Lookup
// tables in the list are not consulted.
func fastFlushAllowed(tool *cli.Tool, site string) (bool, error) {
	domains, err := tool.Config.List("fast_flush_domains")
	if err != nil {
		return false, err
	}
	parents, err := tool.Config.List("parent_domain_matches_subdomains")
	if err != nil {
		return false, err
	}
	subdomains := false
	for _, p := range parents {
		subdomains = subdomains || p == "fast_flush_domains"
	}
	site = strings.ToLower(strings.TrimSuffix(site, "."))
	for _, d := range domains {
		d = strings.ToLower(d)
		switch {
		case strings.Contains(d, ":") || strings.HasPrefix(d, "/"):
			continue
		case strings.HasPrefix(d, "."):
			if strings.HasSuffix(site, d) {
				return true, nil
			}
		case site == d:
			return true, nil
		case subdomains && strings.HasSuffix(site, "."+d):
			return true, nil
		}
	}
	return false, nil
}
