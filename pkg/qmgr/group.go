// Grouping a message's recipients into delivery requests by transport and next hop.

package qmgr

import "github.com/postern/postern/pkg/queue"

// Job is one delivery request's worth of recipients: same transport and
// next hop, at most the transport's recipient limit.
type Job struct {
	Transport  string
	Nexthop    string
	Recipients []queue.Recipient
}

// Destination is a job's key for the concurrency window.
func (j *Job) Destination() string { return j.Transport + ":" + j.Nexthop }

// Routed is a recipient with the channel the resolver chose.
type Routed struct {
	Recipient queue.Recipient
	Transport string
	Nexthop   string
}

// Group collects routed recipients into jobs, keeping the order in which
// destinations first appear and splitting a destination's recipients into
// jobs of at most limit(transport) recipients (0 = no limit).
func Group(routed []Routed, limit func(transport string) int) []Job {
	var jobs []Job
	open := map[string]int{} // destination → index of its job being filled
	for _, r := range routed {
		key := r.Transport + ":" + r.Nexthop
		max := limit(r.Transport)
		i, ok := open[key]
		if !ok || (max > 0 && len(jobs[i].Recipients) >= max) {
			jobs = append(jobs, Job{Transport: r.Transport, Nexthop: r.Nexthop})
			i = len(jobs) - 1
			open[key] = i
		}
		jobs[i].Recipients = append(jobs[i].Recipients, r.Recipient)
	}
	return jobs
}
