// The lower CPU priority master gives the delivery side of the mail system.

package privs

// EarlyNiceEnv, set to a number from 1 to 19 by master (with
// POSTERN_MASTER=1) in the environment of a daemon, has a program linked
// with cgo add it to its nice value at its start, before any thread exists
// (earlynice_cgo.go), so that every thread of the process runs at that
// lower priority. A program without cgo ignores it.
const EarlyNiceEnv = "POSTERN_NICE"
