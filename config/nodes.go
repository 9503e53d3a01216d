package config

import (
	"regexp"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Node is another switchboard node sharing this node's Redis queue.
type Node struct {
	// Trunk is this node's inter-node trunk towards that node,
	// "<tech>/<trunk endpoint>" (e.g. "PJSIP/internode-node2"): an
	// operator whose softphone registered there is rung from here as
	// "PJSIP/<their user>@internode-node2".
	Trunk string
	// Host is that node's Asterisk SIP address (host or host:port), for
	// `helpline asterisk-config` to point the trunk at (optional here).
	Host string
}

// nodeName is what a node id must look like once several nodes share a
// queue: it becomes part of Redis keys (no '.', unlike identifier).
var nodeName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)

// nodes decodes the map of node id → node.
func (d *decoder) nodes(n *yaml.Node, path string, c *Config) {
	c.Nodes = map[string]Node{}
	d.entries(n, path, func(k *yaml.Node, id string, v *yaml.Node, p string) {
		d.lines[p] = k.Line
		var nd Node
		d.mapping(v, p, fields{
			"trunk": d.setString(&nd.Trunk),
			"host":  d.setString(&nd.Host),
		}, nil)
		c.Nodes[id] = nd
	})
}

// checkNodes checks the nodes sharing the queue: names fit for Redis keys,
// a trunk to every other node. The entry of this node itself (one file
// shared by every node) is allowed and needs no trunk.
func (d *decoder) checkNodes(c *Config) {
	if len(c.Nodes) == 0 {
		return
	}
	if !nodeName.MatchString(c.NodeID) {
		d.failPath("node_id", "%q cannot name a node sharing a queue: letters, digits, _ and -, at most 32", truncate(c.NodeID))
	}
	ids := make([]string, 0, len(c.Nodes))
	for id := range c.Nodes {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		nd, p := c.Nodes[id], "nodes."+id
		if !nodeName.MatchString(id) {
			d.failPath(p, "%q is not a node id (letters, digits, _ and -, at most 32)", truncate(id))
			continue
		}
		if id == c.NodeID {
			continue
		}
		tech, name, ok := strings.Cut(nd.Trunk, "/")
		switch {
		case nd.Trunk == "":
			d.failPath(p+".trunk", "missing: name the inter-node trunk towards %s (e.g. PJSIP/internode-%s)", id, id)
		case !ok || tech == "" || name == "" || strings.ContainsAny(name, "/@{} \t"):
			d.failPath(p+".trunk", "%q is not <tech>/<trunk endpoint> (e.g. PJSIP/internode-%s)", truncate(nd.Trunk), id)
		}
	}
}
