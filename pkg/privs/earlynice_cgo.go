// earlynice_cgo.go lowers the CPU priority of a daemon started by master
// when master asks for it in the environment (EarlyNiceEnv), before the Go
// runtime starts, in a program linked with cgo.
//
// Why before: on Linux a nice value belongs to a thread, and a new thread
// takes its creator's. Set here, while the process has one thread, it is
// every thread's; set from Go, it would miss the runtime's threads.

//go:build cgo

package privs

/*
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

__attribute__((constructor)) static void postern_early_nice(void) {
	const char *master = getenv("POSTERN_MASTER");
	const char *nice = getenv("POSTERN_NICE");
	if (master == NULL || strcmp(master, "1") != 0 || nice == NULL)
		return;
	int n = atoi(nice);
	if (n <= 0 || n > 19)
		return;
	// 0 is the calling thread: the only one so far.
	setpriority(PRIO_PROCESS, 0, getpriority(PRIO_PROCESS, 0) + n);
}
*/
import "C"
