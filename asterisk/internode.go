package asterisk

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
)

// contextInternode is the context of calls arriving from the other nodes'
// trunks.
const contextInternode = "helpline-internode"

// internodePlan is the trunk to one other node sharing the queue.
type internodePlan struct {
	node     string
	endpoint string // the pjsip.conf id of the trunk towards node
	host     string // node's Asterisk: address for identify
	port     int
}

// checkInternode derives the inter-node trunks from cfg.Nodes (every node
// but this one). Several nodes share one Redis queue; an operator whose
// softphone registered on another node is rung from the caller's node
// through the trunk to that node (dial string PJSIP/<user>@<trunk>), and
// the far node's helpline-internode context dials the softphone.
func (p *plan) checkInternode() {
	reserved := p.reserved()
	for _, o := range p.operators {
		reserved[o.endpoint] = "operator " + o.op.ID + "'s softphone"
	}
	var ids []string
	for id := range p.cfg.Nodes {
		if id != p.cfg.NodeID {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		nd := p.cfg.Nodes[id]
		path := "nodes." + id
		tech, ep, _ := strings.Cut(nd.Trunk, "/")
		ok := true
		switch what, clash := reserved[ep]; {
		case !strings.EqualFold(tech, "PJSIP"):
			p.failConfig(path+".trunk", "%q: asterisk-config generates PJSIP trunks between nodes; write PJSIP/<id>", truncate(nd.Trunk))
			ok = false
		case !endpointID.MatchString(ep):
			p.failConfig(path+".trunk", "%q: %s", truncate(nd.Trunk), endpointProblem(ep))
			ok = false
		case clash:
			p.failConfig(path+".trunk", "%q has the id of %s in pjsip.conf; name the trunk otherwise (e.g. internode-%s)", truncate(nd.Trunk), what, id)
			ok = false
		}
		reserved[ep] = "the trunk to node " + id
		reserved[ep+"-identify"] = "the address match of the trunk to node " + id
		host, port := nd.Host, 5060
		if h, ps, err := net.SplitHostPort(nd.Host); err == nil {
			n, err := strconv.Atoi(ps)
			if err != nil || n < 1 || n > 65535 {
				p.failConfig(path+".host", "%q has no valid port", truncate(nd.Host))
				ok = false
			}
			host, port = h, n
		}
		switch {
		case nd.Host == "":
			p.failConfig(path+".host", "missing: the SIP address of node %s's Asterisk (host or host:port), which its trunk is pointed at and matched by", id)
			ok = false
		case net.ParseIP(host) == nil && !hostName.MatchString(host):
			p.failConfig(path+".host", "%q is not a host name or IP address, with an optional :port", truncate(nd.Host))
			ok = false
		}
		if ok {
			p.internode = append(p.internode, internodePlan{node: id, endpoint: ep, host: host, port: port})
		}
	}
}

// internodeDialplan writes the context of calls from the other nodes: each
// of this node's operators' softphones by its endpoint id, and nothing
// else. Dial is allowed here and only here because its one target is a
// local softphone, which cannot reach the network: the toll-fraud rule
// holds (no sequence of digits from another node dials out).
func (p *plan) internodeDialplan(c *conf) {
	if len(p.internode) == 0 {
		return
	}
	c.blank()
	c.comment(
		"Calls from the other nodes' inter-node trunks: an operator whose softphone",
		"registered here, rung for a caller waiting on another node. Only the",
		"operators' softphones are reachable, each by its endpoint id; never the",
		"provider's trunk. The caller's node bounds the ringing.",
	)
	c.section(contextInternode, "")
	for _, o := range p.operators {
		c.line(fmt.Sprintf("exten => %s,1,Dial(PJSIP/%s)", o.endpoint, o.endpoint))
		c.line(" same => n,Hangup()")
	}
}

// internodePJSIP writes the trunks to the other nodes: identified by their
// address (no credentials: the nodes talk over the switchboard's private
// network), landing in contextInternode.
func (p *plan) internodePJSIP(c *conf) {
	if len(p.internode) == 0 {
		return
	}
	c.blank()
	c.comment(
		"---- Inter-node trunks: context "+contextInternode+" (this node's softphones only) ----",
		"The nodes share one queue; a caller waiting here is answered by an operator",
		"registered on another node through the trunk to that node. Identified by",
		"address only: keep the nodes' SIP traffic on a private network.",
	)
	for _, n := range p.internode {
		uri := fmt.Sprintf("sip:%s:%d", n.host, n.port)
		if strings.Contains(n.host, ":") {
			uri = fmt.Sprintf("sip:[%s]:%d", n.host, n.port)
		}
		if p.site.SIP.Protocol == "tcp" {
			uri += ";transport=tcp"
		}
		c.blank()
		c.comment("The trunk to node " + n.node)
		c.section(n.endpoint, "")
		c.set("type", "endpoint")
		c.set("transport", p.transport)
		c.set("context", contextInternode)
		c.set("disallow", "all")
		c.set("allow", strings.Join(p.site.Codecs, ","))
		c.set("dtmf_mode", "rfc4733")
		c.set("direct_media", "no")
		c.set("rtp_symmetric", "yes")
		c.set("trust_id_inbound", "no")
		c.set("trust_id_outbound", "no")
		c.set("send_pai", "no")
		c.set("allow_subscribe", "no")
		c.set("allow_transfer", "no")
		c.set("language", p.cfg.IVR.DefaultLanguage)
		c.set("aors", n.endpoint)
		c.blank()
		c.section(n.endpoint, "")
		c.set("type", "aor")
		c.set("contact", uri)
		c.set("qualify_frequency", "30")
		c.blank()
		c.section(n.endpoint+"-identify", "")
		c.set("type", "identify")
		c.set("endpoint", n.endpoint)
		c.set("match", n.host)
	}
}
