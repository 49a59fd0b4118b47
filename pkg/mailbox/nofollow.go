// The open flag that refuses a symbolic link as the last path component.

package mailbox

import "syscall"

const noFollow = syscall.O_NOFOLLOW
