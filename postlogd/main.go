// Command postlogd is Postfix's postlogd(8), master.cf's postlog
// unix-dgram service: it appends the lines that daemons send to the
// postlog socket to maillog_file (see maillog.LogServer). It opens the
// file before it drops to mail_owner, as Postfix's postlogd does, so the
// file may belong to root; after `postfix logrotate` master's reload ends
// it and the next line starts one that opens the new file.
package main

import "github.com/postern/postern/pkg/programs"

func main() { programs.Postlogd() }
