// earlyfds_cgo.go gives a daemon started by master room for 1,024
// descriptors before the Go runtime starts, in a program linked with cgo.
//
// Why: the kernel's descriptor table starts with 64 slots and doubles when
// a process needs more. In a process with more than one thread each
// doubling waits for an RCU grace period, and every open, accept and
// socket of the process waits with it. A daemon serving a hundred clients
// at once (smtpd, cleanup) doubled its table two or three times while
// serving, in every process: under load each wait took 25-110 ms (perf
// sched: alloc_fd in expand_files, synchronize_rcu), so the sessions of a
// young process stalled together. Grown here, while the process has one
// thread, the table costs no wait and 8 KB of kernel memory; a process
// that needs more still grows it as before.

//go:build cgo

package privs

/*
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>

__attribute__((constructor)) static void postern_early_fd_table(void) {
	const char *master = getenv("POSTERN_MASTER");
	if (master == NULL || strcmp(master, "1") != 0)
		return;
	int slots = 1024;
	struct rlimit lim;
	if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < (rlim_t)slots)
		slots = (int)lim.rlim_cur;
	int fd = open("/", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	// The lowest free descriptor from slots-1 up: the table grows to hold it.
	int high = fcntl(fd, F_DUPFD_CLOEXEC, slots - 1);
	if (high >= 0)
		close(high);
	close(fd);
}
*/
import "C"
