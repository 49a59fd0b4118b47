// The postalias side of a build: aliases(5) sources and the extra
// entries postalias adds for sendmail and NIS compatibility.

package tablecmd

import (
	"io"
	"strconv"
	"time"

	"github.com/postern/postern/pkg/aliases"
	"github.com/postern/postern/pkg/maps"
)

// readAliases parses an aliases file into set through add, then adds
// "@" (which sendmail uses to see that the database is complete),
// YP_LAST_MODIFIED and YP_MASTER_NAME ($myhostname), unfolded, as
// postalias does.
func (c *command) readAliases(r io.Reader, file string, set *maps.EntrySet, add func(key, value string)) error {
	err := aliases.Scan(r, file, c.opts.UTF8,
		func(e aliases.Entry) { add(e.Name, e.Value) },
		func(w aliases.Warning) { c.warn("%s", w) })
	if err != nil {
		return err
	}
	host, err := c.config.Get("myhostname")
	if err != nil {
		return err
	}
	set.Put("YP_LAST_MODIFIED", strconv.FormatInt(time.Now().Unix(), 10))
	set.Put("YP_MASTER_NAME", host)
	set.Put("@", "@")
	return nil
}
