// The main.cf parameters of flow control.

package mailflow

import (
	"time"

	"github.com/postern/postern/pkg/config"
)

// settings are what the gate and the producer read from main.cf.
type settings struct {
	Delay        time.Duration `param:"in_flow_delay"`
	ProcessLimit int           `param:"default_process_limit"`
}

// GateFromConfig returns cleanup's gate on p with in_flow_delay.
func GateFromConfig(cfg *config.Config, p *Pipe) (*Gate, error) {
	var s settings
	if err := cfg.Fill(&s); err != nil {
		return nil, err
	}
	return &Gate{Pipe: p, Delay: s.Delay}, nil
}

// ProducerFromConfig returns the queue manager's producer on p, which
// keeps up to default_process_limit tokens in it, or nil when
// in_flow_delay is 0: then the queue manager puts no tokens in, as
// Postfix's does not.
func ProducerFromConfig(cfg *config.Config, p *Pipe) (*Producer, error) {
	var s settings
	if err := cfg.Fill(&s); err != nil {
		return nil, err
	}
	if s.Delay <= 0 || p == nil {
		return nil, nil
	}
	return &Producer{Pipe: p, Limit: s.ProcessLimit}, nil
}
