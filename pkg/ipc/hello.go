// The server's greeting: the protocol name and version it speaks.

package ipc

import "fmt"

// Protocol names a request/reply protocol and its version, as announced by
// the server in its Hello.
type Protocol struct {
	Name    string
	Version uint32
}

// The protocols spoken by Postern daemons.
var (
	ProtocolCleanup  = Protocol{Name: "cleanup", Version: 1}
	ProtocolDelivery = Protocol{Name: "delivery", Version: 1}
	ProtocolTrigger  = Protocol{Name: "trigger", Version: 1}
)

func (p Protocol) String() string { return fmt.Sprintf("%q version %d", p.Name, p.Version) }

// Hello is the first frame on every connection, sent by the server.
type Hello struct {
	Protocol Protocol
}

// Type implements Message.
func (*Hello) Type() MsgType { return MsgHello }

func (m *Hello) fields(c *codec) {
	c.string(1, &m.Protocol.Name)
	c.uint32(2, &m.Protocol.Version)
}
