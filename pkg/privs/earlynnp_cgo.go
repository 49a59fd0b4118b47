// earlynnp_cgo.go sets no_new_privs before the Go runtime starts, in a
// program linked with cgo, when master asks for it in the environment.
// Without it such a program must re-execute itself to get the flag on
// every thread (EnsureNoNewPrivs), which doubles its start-up cost; with
// it, EnsureNoNewPrivs finds the flag set and has nothing to do.

//go:build cgo

package privs

/*
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

// A constructor runs while the process still has one thread, before the
// Go runtime; a thread inherits the flag from the thread that creates it.
__attribute__((constructor)) static void postern_early_no_new_privs(void) {
	const char *master = getenv("POSTERN_MASTER");
	const char *nnp = getenv("POSTERN_NO_NEW_PRIVS");
	if (master != NULL && strcmp(master, "1") == 0 && nnp != NULL && strcmp(nnp, "1") == 0)
		prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}
*/
import "C"
