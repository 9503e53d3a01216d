package asterisk

import (
	"strings"
	"testing"
)

func TestGenerateRefusesBadInterNodeTrunks(t *testing.T) {
	cases := []struct {
		name, nodes, want string
	}{
		{"no host", "  node2: {trunk: PJSIP/internode-node2}\n", `nodes.node2.host: missing`},
		{"bad host", "  node2: {trunk: PJSIP/internode-node2, host: \"bad host\"}\n", `nodes.node2.host: "bad host" is not a host name`},
		{"bad port", "  node2: {trunk: PJSIP/internode-node2, host: \"10.0.0.2:0\"}\n", `nodes.node2.host: "10.0.0.2:0" has no valid port`},
		{"clash with a softphone", "  node2: {trunk: PJSIP/op1001, host: 10.0.0.2}\n", `nodes.node2.trunk: "PJSIP/op1001" has the id of operator`},
		{"not PJSIP", "  node2: {trunk: IAX2/internode, host: 10.0.0.2}\n", `nodes.node2.trunk: "IAX2/internode": asterisk-config generates PJSIP trunks`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := loadConfig(t, `service: "1522"`+"\n", "service: \"1522\"\nnode_id: node1\nnodes:\n"+tc.nodes)
			site := loadSite(t, "site-ip.yaml")
			_, err := Generate(cfg, site, PlaceholderSecrets(cfg, site))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Generate: %v; want %q", err, tc.want)
			}
		})
	}
}
