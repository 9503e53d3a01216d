package config

import (
	"gopkg.in/yaml.v3"
)

// RedisSentinel is how to find the Redis master through Sentinel: the
// nodes' go-redis clients (FailoverClient) ask the sentinels for the
// master named MasterName and follow its promotions. The master's password
// is redis.password; the sentinels themselves are expected on the same
// private network without one.
type RedisSentinel struct {
	// MasterName is the name the sentinels monitor the master under
	// (their `sentinel monitor <name> …`).
	MasterName string
	// Addrs are the sentinels, host:port each (26379 by convention); list
	// them all: the client asks the next when one does not answer.
	Addrs []string
}

// redisSentinel decodes redis.sentinel.
func (d *decoder) redisSentinel(n *yaml.Node, path string, s *RedisSentinel) {
	d.mapping(n, path, fields{
		"master_name": d.setString(&s.MasterName),
		"addrs":       d.setStrings(&s.Addrs),
	}, nil)
}

// checkRedisSentinel checks redis.sentinel when set.
func (d *decoder) checkRedisSentinel(s *RedisSentinel) {
	if s == nil {
		return
	}
	if s.MasterName == "" {
		d.failPath("redis.sentinel.master_name", "missing: the name the sentinels monitor the master under")
	} else if !stasisApp.MatchString(s.MasterName) {
		d.failPath("redis.sentinel.master_name", "%q is not a master name (letters, digits, _ . -)", truncate(s.MasterName))
	}
	if len(s.Addrs) == 0 {
		d.failPath("redis.sentinel.addrs", "missing: list the sentinels, host:port each")
	}
	for i, a := range s.Addrs {
		if err := checkHostPort(a); err != nil {
			d.failPath("redis.sentinel.addrs", "[%d] %q %v", i, truncate(a), err)
		}
	}
}
