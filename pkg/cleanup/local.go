// How a local submission (pickup) names its submitter in a cleanup request.
package cleanup

import (
	"strconv"
	"strings"

	"github.com/postern/postern/pkg/ipc"
)

// localClientPrefix marks a local submission's ClientName. The cleanup
// protocol has no field for the submitting user, so pickup sends
// "userid N" as the client name of a submission without a client address.
const localClientPrefix = "userid "

// LocalSubmission fills in the client fields of a local submission made
// on behalf of user id uid (the owner of the maildrop file), which gets
// Received: "by HOST (Postern, from userid N)" and the missing headers.
func LocalSubmission(sub *ipc.CleanupSubmission, uid int) {
	sub.ClientName = localClientPrefix + strconv.Itoa(uid)
	sub.ClientAddress = ""
}

// localUID reports whether sub is a local submission and returns the
// submitter's user id as text.
func localUID(sub *ipc.CleanupSubmission) (string, bool) {
	if sub.ClientAddress != "" {
		return "", false
	}
	uid, ok := strings.CutPrefix(sub.ClientName, localClientPrefix)
	if n, err := strconv.Atoi(uid); !ok || err != nil || n < 0 {
		return "0", true
	}
	return uid, true
}
