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

const (
	attrHelloName    = 1
	attrHelloVersion = 2
)

// Type implements Message.
func (*Hello) Type() MsgType { return MsgHello }

// Encode implements Message.
func (m *Hello) Encode(dst []byte) []byte {
	w := attrWriter{buf: dst}
	w.putString(attrHelloName, m.Protocol.Name)
	w.putUint(attrHelloVersion, uint64(m.Protocol.Version))
	return w.buf
}

// Decode implements Message.
func (m *Hello) Decode(payload []byte) error {
	*m = Hello{}
	r := attrReader{rest: payload}
	for r.next() {
		switch r.tag {
		case attrHelloName:
			m.Protocol.Name = r.string()
		case attrHelloVersion:
			m.Protocol.Version = r.uint32()
		}
	}
	return r.err
}
