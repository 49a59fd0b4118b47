// The wakeup column: periodic triggers master sends to services such as pickup and qmgr.

package supervisor

import "time"

// startWakeup starts svc's wakeup timer when master.cf gives it one. A
// conditional wakeup ("60?") is sent like a plain one, first after one
// interval.
func (s *Supervisor) startWakeup(svc *service) {
	seconds, _ := svc.entry.WakeupTime()
	if seconds <= 0 || len(svc.instances) == 0 {
		return
	}
	stop := make(chan struct{})
	svc.stopWake = stop
	ep := svc.instances[0].ep
	go sendWakeups(ep, time.Duration(seconds)*time.Second, stop)
}

// stopWakeup stops svc's wakeup timer, if it has one.
func (s *Supervisor) stopWakeup(svc *service) {
	if svc.stopWake != nil {
		close(svc.stopWake)
		svc.stopWake = nil
	}
}

// sendWakeups triggers ep every interval until stop is closed. A failed
// trigger (daemon busy or restarting) is dropped, as Postfix drops it;
// the next interval tries again.
func sendWakeups(ep endpoint, interval time.Duration, stop <-chan struct{}) {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-stop:
			return
		case <-ticker.C:
			ep.wakeup()
		}
	}
}
