// The routing of probes: the address_verify_* parameters that replace
// the ordinary routing parameters for probe messages.

package verify

import "github.com/postern/postern/pkg/config"

// probeOverrides pairs each routing parameter with its probe variant.
var probeOverrides = [][2]string{
	{"transport_maps", "address_verify_transport_maps"},
	{"relayhost", "address_verify_relayhost"},
	{"local_transport", "address_verify_local_transport"},
	{"virtual_transport", "address_verify_virtual_transport"},
	{"relay_transport", "address_verify_relay_transport"},
	{"default_transport", "address_verify_default_transport"},
	{"sender_dependent_relayhost_maps", "address_verify_sender_dependent_relayhost_maps"},
	{"sender_dependent_default_transport_maps", "address_verify_sender_dependent_default_transport_maps"},
}

// ProbeConfig is cfg as the routing of probes sees it: each routing
// parameter has the value of its address_verify_* variant.
func ProbeConfig(cfg *config.Config) (*config.Config, error) {
	probe := cfg.Clone()
	for _, o := range probeOverrides {
		v, err := cfg.Get(o[1])
		if err != nil {
			return nil, err
		}
		probe.Set(o[0], v)
	}
	return probe, nil
}
