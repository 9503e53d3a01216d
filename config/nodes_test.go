package config

import (
	"strings"
	"testing"
)

const nodesBase = `service: "1522"
ari: {url: "http://127.0.0.1:8088", username: helpline, password_env: HELPLINE_ARI_PASSWORD}
privacy: {hmac_key_env: HELPLINE_HMAC_KEY}
languages:
  it: {name: Italiano, digit: 1, hours: always}
operators:
  - {id: op1, endpoint: PJSIP/op1, languages: [it]}
`

func TestNodes(t *testing.T) {
	c, err := Parse("nodes.yaml", []byte(nodesBase+`node_id: node1
nodes:
  node1: {host: 10.0.0.11}
  node2: {trunk: PJSIP/internode-node2, host: "10.0.0.12:5060"}
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Nodes) != 2 || c.Nodes["node2"].Trunk != "PJSIP/internode-node2" || c.Nodes["node2"].Host != "10.0.0.12:5060" {
		t.Errorf("nodes %+v", c.Nodes)
	}
	single, err := Parse("single.yaml", []byte(nodesBase))
	if err != nil || len(single.Nodes) != 0 {
		t.Errorf("no nodes key: %+v, %v", single.Nodes, err)
	}
}

func TestNodesBroken(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"no trunk", "nodes: {node2: {host: x}}", `nodes.node2.trunk: missing`},
		{"bad trunk", "nodes: {node2: {trunk: internode}}", `nodes.node2.trunk: "internode" is not <tech>/<trunk endpoint>`},
		{"trunk with user", "nodes: {node2: {trunk: PJSIP/x@internode}}", `is not <tech>/<trunk endpoint>`},
		{"bad node name", "nodes: {node.2: {trunk: PJSIP/i}}", `nodes.node.2: "node.2" is not a node id`},
		{"bad own id", "node_id: n.1\nnodes: {node2: {trunk: PJSIP/i}}", `node_id: "n.1" cannot name a node sharing a queue`},
		{"unknown key", "nodes: {node2: {trunk: PJSIP/i, port: 5}}", `nodes.node2.port: unknown key`},
		{"not a mapping", "nodes: [node2]", `nodes:`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("broken.yaml", []byte(nodesBase+tt.yaml+"\n"))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v; want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestRedisSentinel(t *testing.T) {
	c, err := Parse("s.yaml", []byte(nodesBase+"redis: {sentinel: {master_name: helpline, addrs: [\"10.0.0.5:26379\", \"10.0.0.6:26379\"]}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if s := c.Redis.Sentinel; s == nil || s.MasterName != "helpline" || len(s.Addrs) != 2 || s.Addrs[1] != "10.0.0.6:26379" {
		t.Errorf("sentinel %+v", s)
	}
	for yaml, want := range map[string]string{
		"redis: {sentinel: {addrs: [\"a:1\"]}}":                       "redis.sentinel.master_name: missing",
		"redis: {sentinel: {master_name: m}}":                         "redis.sentinel.addrs: missing",
		"redis: {sentinel: {master_name: m, addrs: [\"nohost\"]}}":    `redis.sentinel.addrs: [0] "nohost" is not host:port`,
		"redis: {sentinel: {master_name: \"a b\", addrs: [\"a:1\"]}}": `redis.sentinel.master_name: "a b" is not a master name`,
		"redis: {sentinel: {master: m}}":                              "redis.sentinel.master: unknown key",
	} {
		if _, err := Parse("s.yaml", []byte(nodesBase+yaml+"\n")); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v; want %q", yaml, err, want)
		}
	}
}
