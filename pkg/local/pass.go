// mailbox_transport(_maps) and fallback_transport(_maps): handing a
// recipient's delivery to another transport (lmtp to Dovecot, a pipe)
// over the delivery protocol, as Postfix's local does with deliver_pass.

package local

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/postern/postern/pkg/ipc"
	"github.com/postern/postern/pkg/maps"
	"github.com/postern/postern/pkg/queue"
)

// passTimeout bounds one delivery handed to another transport.
const passTimeout = 30 * time.Minute

// transportFor is the entry of name in tables, else def ("" for none).
func transportFor(tables []maps.Table, def, name string) (string, error) {
	for _, t := range tables {
		v, found, err := t.Lookup(name)
		if err != nil {
			return "", fmt.Errorf("%s: table lookup problem: %w", t.Spec(), err)
		}
		if found {
			return v, nil
		}
	}
	return def, nil
}

// pass hands the delivery of addr to transport "name[:nexthop]"; the
// other agent logs the delivery, local records its result without a
// line of its own.
func (d *delivery) pass(addr, transport string) {
	name, nexthop, _ := strings.Cut(transport, ":")
	if nexthop == "" {
		nexthop = d.req.Nexthop
	}
	if name == "" {
		d.add(addr, deferred("4.3.5", "mail system configuration error"))
		return
	}
	req := *d.req
	req.Transport, req.Nexthop = name, nexthop
	req.Recipients = []ipc.Recipient{{Address: addr, OriginalRecipient: d.rcpt.OriginalRecipient, Offset: d.rcpt.Offset,
		Notify: d.rcpt.Notify, ORCPT: d.rcpt.ORCPT}}
	ctx, cancel := context.WithTimeout(d.ctx, passTimeout)
	defer cancel()
	socket := queue.PrivateDir + "/" + name
	conn, err := ipc.Dial(ctx, socket, ipc.ProtocolDelivery)
	if err != nil {
		d.agent.Log.Warning("%s: connect to transport %s: %v", d.req.QueueID, socket, err)
		d.add(addr, deferred("4.3.0", "mail transport unavailable"))
		return
	}
	defer conn.Close()
	var result ipc.DeliveryResult
	if err := conn.Send(ctx, &req); err == nil {
		err = conn.Expect(ctx, &result)
	}
	if err != nil || len(result.Recipients) != 1 {
		d.agent.Log.Warning("%s: delivery via transport %s: %v", d.req.QueueID, name, err)
		d.add(addr, deferred("4.3.0", "unknown mail transport error"))
		return
	}
	d.outcomes = append(d.outcomes, outcome{to: addr, res: result.Recipients[0], passed: true})
}
