package ariapp

// Added by the operator work (issue 5): where an operator's own call
// comes from, for the feature codes. It only adds a method.

import (
	"context"
	"strings"
)

// Origin says where an operator's own call (Stasis(<app>,operator,…))
// comes from, as Asterisk knows it (GET /channels/{id}): the calling
// endpoint, read from the channel name ("PJSIP/op1001-0000000c" →
// "PJSIP/op1001"), which, unlike the caller ID a softphone sends, the
// phone cannot set; and the extension it dialled ("*11", or a service
// number such as "9000" when the code is keyed after the answer).
func (c *Call) Origin(ctx context.Context) (endpoint, dialled string, err error) {
	rctx, cancel := c.app.requestContext(ctx)
	defer cancel()
	ch, err := c.app.client.Channels().Get(rctx, c.id)
	if err != nil {
		return "", "", c.result("origin", err)
	}
	return EndpointOf(ch.Name), ch.Dialplan.Exten, nil
}

// EndpointOf returns the endpoint of an Asterisk channel name: the name
// without the "-<sequence>" Asterisk appends ("PJSIP/op1001-0000000c" →
// "PJSIP/op1001"). A name without a sequence is returned as it is.
func EndpointOf(name string) string {
	i := strings.LastIndexByte(name, '-')
	if i <= strings.IndexByte(name, '/') {
		return name
	}
	return name[:i]
}
