// services.go adds the per-transport parameters that Postfix derives from
// master.cf: a delivery service "relay" (command smtp) gets
// relay_destination_concurrency_limit = $default_destination_concurrency_limit
// and so on.

package config

import "sort"

// transportParameterDefaults are the suffixes every delivery service gets,
// with the parameter each defaults to.
var transportParameterDefaults = map[string]string{
	"delivery_slot_cost":                          "$default_delivery_slot_cost",
	"delivery_slot_discount":                      "$default_delivery_slot_discount",
	"delivery_slot_loan":                          "$default_delivery_slot_loan",
	"destination_concurrency_failed_cohort_limit": "$default_destination_concurrency_failed_cohort_limit",
	"destination_concurrency_limit":               "$default_destination_concurrency_limit",
	"destination_concurrency_negative_feedback":   "$default_destination_concurrency_negative_feedback",
	"destination_concurrency_positive_feedback":   "$default_destination_concurrency_positive_feedback",
	"destination_rate_delay":                      "$default_destination_rate_delay",
	"destination_recipient_limit":                 "$default_destination_recipient_limit",
	"extra_recipient_limit":                       "$default_extra_recipient_limit",
	"initial_destination_concurrency":             "$initial_destination_concurrency",
	"minimum_delivery_slots":                      "$default_minimum_delivery_slots",
	"recipient_limit":                             "$default_recipient_limit",
	"recipient_refill_delay":                      "$default_recipient_refill_delay",
	"recipient_refill_limit":                      "$default_recipient_refill_limit",
	"transport_rate_delay":                        "$default_transport_rate_delay",
}

// deliveryCommands are the master.cf commands that make a service a
// delivery transport; pipe services also get NAME_time_limit, as spawn
// services do.
var deliveryCommands = map[string]bool{
	"smtp": true, "lmtp": true, "pipe": true, "local": true, "virtual": true, "error": true,
}

// AddService registers the parameters Postfix derives from a master.cf
// service whose command is command (the daemon name, "smtp" or "pipe").
// Services that are not delivery agents add nothing; names that are built
// in keep their own defaults.
func (c *Config) AddService(service, command string) {
	if !deliveryCommands[command] && command != "spawn" {
		return
	}
	add := func(name, def string) {
		if Known(name) {
			return
		}
		if c.serviceDefaults == nil {
			c.serviceDefaults = map[string]string{}
		}
		c.serviceDefaults[name] = def
	}
	if command == "spawn" {
		add(service+"_time_limit", pipeTimeLimitDefault)
		return
	}
	for suffix, def := range transportParameterDefaults {
		add(service+"_"+suffix, def)
	}
	if command == "pipe" {
		add(service+"_time_limit", pipeTimeLimitDefault)
	}
}

// pipeTimeLimitDefault is the default of a pipe service's NAME_time_limit.
const pipeTimeLimitDefault = "$command_time_limit"

// transportSuffixDefault returns the default of <transport>_suffix.
func transportSuffixDefault(suffix string) (string, bool) {
	if suffix == "time_limit" {
		return pipeTimeLimitDefault, true
	}
	def, ok := transportParameterDefaults[suffix]
	return def, ok
}

// Known reports whether name is built in or derived from a master.cf
// service added with AddService.
func (c *Config) Known(name string) bool {
	if _, ok := c.serviceDefaults[name]; ok {
		return true
	}
	return Known(name)
}

// Names returns the built-in parameter names and those of added services,
// sorted.
func (c *Config) Names() []string {
	names := Names()
	for n := range c.serviceDefaults {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
