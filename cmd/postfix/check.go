// postfix check: create missing queue directories, check master.cf and the owners and modes Postfix checks.

package main

import (
	"os"
	"path/filepath"

	"github.com/postern/postern/pkg/mastercf"
	"github.com/postern/postern/pkg/supervisor"
)

// check is `postfix check`: exit 1 on a fatal problem, else 0 with warnings.
func (c *controller) check() int {
	if !c.checkFatal() {
		return 1
	}
	c.checkWarn()
	return 0
}

// checkFatal creates missing queue directories and checks what would stop
// master: master.cf present and valid, a postlog service when
// maillog_file is set. It logs each problem as fatal.
func (c *controller) checkFatal() bool {
	owner, err := c.settings.ResolveOwner()
	if err != nil {
		c.fatal("%v", err)
		return false
	}
	if err := supervisor.CreateQueueDirs(c.settings, owner); err != nil {
		c.fatal("%v", err)
		c.fatal("unable to create missing queue directories")
		return false
	}
	path := filepath.Join(c.settings.ConfigDir, "master.cf")
	if _, err := os.Stat(path); err != nil {
		c.fatal("no %s file found", path)
		return false
	}
	file, err := mastercf.ParseFile(path)
	if err != nil {
		c.fatal("%v", err)
		return false
	}
	if c.settings.MaillogFile != "" && file.Lookup("postlog", mastercf.TypeUnixDgram) == nil {
		c.fatal("missing 'postlog' service in master.cf - run 'postfix upgrade-configuration'")
		return false
	}
	return true
}

// checkWarn logs what reading main.cf warned about and Postfix's
// ownership and permission warnings.
func (c *controller) checkWarn() {
	for _, w := range c.cfg.Warnings {
		c.warning("%s", w)
	}
	owner, err := c.settings.ResolveOwner()
	if err != nil {
		c.warning("%v", err)
		return
	}
	for _, w := range supervisor.CheckQueueDirs(c.settings, owner) {
		c.warning("%s", w)
	}
}
