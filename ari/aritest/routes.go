package aritest

import (
	"net/http"
	"strings"
)

type handlerFunc func(s *Server, rq *request) response

// routeNode is one path segment of Asterisk's ARI route tree.
type routeNode struct {
	path     string // template of the route ending here ("/channels/{channelId}")
	segment  string
	param    string // set on a {wildcard} node
	children []*routeNode
	methods  map[string]handlerFunc // nil handler: Asterisk serves it, the emulator does not
	handler  handlerFunc            // of the matched method, filled by match
}

// asteriskRoutes lists every route of Asterisk 22.10.1's ARI (its
// rest-api/api-docs), with the emulator's handler or nil where the emulator
// does not emulate it. A nil route answers like an unknown one (404
// "Resource not found") and is recorded in Server.Gaps.
func asteriskRoutes() []struct {
	method, path string
	h            handlerFunc
} {
	return []struct {
		method, path string
		h            handlerFunc
	}{
		{"GET", "/channels", hListChannels},
		{"POST", "/channels", hOriginate},
		{"POST", "/channels/create", hCreateChannel},
		{"GET", "/channels/{channelId}", hGetChannel},
		{"POST", "/channels/{channelId}", hOriginate},
		{"DELETE", "/channels/{channelId}", hHangup},
		{"POST", "/channels/{channelId}/continue", hContinue},
		{"POST", "/channels/{channelId}/move", hMove},
		{"POST", "/channels/{channelId}/redirect", nil},
		{"POST", "/channels/{channelId}/answer", hAnswer},
		{"POST", "/channels/{channelId}/ring", hRing},
		{"DELETE", "/channels/{channelId}/ring", hRingStop},
		{"POST", "/channels/{channelId}/progress", hProgress},
		{"POST", "/channels/{channelId}/dtmf", hSendDTMF},
		{"POST", "/channels/{channelId}/mute", hMute},
		{"DELETE", "/channels/{channelId}/mute", hMute},
		{"POST", "/channels/{channelId}/hold", hHold},
		{"DELETE", "/channels/{channelId}/hold", hHold},
		{"POST", "/channels/{channelId}/moh", hMOHStart},
		{"DELETE", "/channels/{channelId}/moh", hMOHStop},
		{"POST", "/channels/{channelId}/silence", hSilence},
		{"DELETE", "/channels/{channelId}/silence", hSilence},
		{"POST", "/channels/{channelId}/play", hPlayChannel},
		{"POST", "/channels/{channelId}/play/{playbackId}", hPlayChannel},
		{"POST", "/channels/{channelId}/record", hRecordChannel},
		{"GET", "/channels/{channelId}/variable", hGetVar},
		{"POST", "/channels/{channelId}/variable", hSetVar},
		{"GET", "/channels/{channelId}/variables", hGetVars},
		{"POST", "/channels/{channelId}/variables", hSetVars},
		{"POST", "/channels/{channelId}/snoop", nil},
		{"POST", "/channels/{channelId}/snoop/{snoopId}", nil},
		{"POST", "/channels/{channelId}/dial", hDial},
		{"GET", "/channels/{channelId}/rtp_statistics", nil},
		{"POST", "/channels/externalMedia", nil},
		{"POST", "/channels/{channelId}/transfer_progress", nil},

		{"GET", "/bridges", hListBridges},
		{"POST", "/bridges", hCreateBridge},
		{"POST", "/bridges/{bridgeId}", hCreateBridge},
		{"GET", "/bridges/{bridgeId}", hGetBridge},
		{"DELETE", "/bridges/{bridgeId}", hDestroyBridge},
		{"GET", "/bridges/{bridgeId}/variable", nil},
		{"POST", "/bridges/{bridgeId}/variable", nil},
		{"GET", "/bridges/{bridgeId}/variables", nil},
		{"POST", "/bridges/{bridgeId}/variables", nil},
		{"POST", "/bridges/{bridgeId}/addChannel", hAddChannel},
		{"POST", "/bridges/{bridgeId}/removeChannel", hRemoveChannel},
		{"POST", "/bridges/{bridgeId}/videoSource/{channelId}", nil},
		{"DELETE", "/bridges/{bridgeId}/videoSource", nil},
		{"POST", "/bridges/{bridgeId}/moh", hBridgeMOHStart},
		{"DELETE", "/bridges/{bridgeId}/moh", hBridgeMOHStop},
		{"POST", "/bridges/{bridgeId}/play", hPlayBridge},
		{"POST", "/bridges/{bridgeId}/play/{playbackId}", hPlayBridge},
		{"POST", "/bridges/{bridgeId}/record", nil},

		{"GET", "/playbacks/{playbackId}", hGetPlayback},
		{"DELETE", "/playbacks/{playbackId}", hStopPlayback},
		{"POST", "/playbacks/{playbackId}/control", hControlPlayback},

		{"GET", "/recordings/stored", hListStored},
		{"GET", "/recordings/stored/{recordingName}", hGetStored},
		{"DELETE", "/recordings/stored/{recordingName}", hDeleteStored},
		{"GET", "/recordings/stored/{recordingName}/file", hGetStoredFile},
		{"POST", "/recordings/stored/{recordingName}/copy", hCopyStored},
		{"GET", "/recordings/live/{recordingName}", hGetLive},
		{"DELETE", "/recordings/live/{recordingName}", hCancelLive},
		{"POST", "/recordings/live/{recordingName}/stop", hStopLive},
		{"POST", "/recordings/live/{recordingName}/pause", hPauseLive},
		{"DELETE", "/recordings/live/{recordingName}/pause", hPauseLive},
		{"POST", "/recordings/live/{recordingName}/mute", hMuteLive},
		{"DELETE", "/recordings/live/{recordingName}/mute", hMuteLive},

		{"GET", "/applications", hListApps},
		{"GET", "/applications/{applicationName}", hGetApp},
		{"POST", "/applications/{applicationName}/subscription", hSubscribe},
		{"DELETE", "/applications/{applicationName}/subscription", hUnsubscribe},
		{"PUT", "/applications/{applicationName}/eventFilter", hEventFilter},

		{"GET", "/asterisk/config/dynamic/{configClass}/{objectType}/{id}", nil},
		{"PUT", "/asterisk/config/dynamic/{configClass}/{objectType}/{id}", nil},
		{"DELETE", "/asterisk/config/dynamic/{configClass}/{objectType}/{id}", nil},
		{"GET", "/asterisk/info", hInfo},
		{"GET", "/asterisk/ping", hPing},
		{"GET", "/asterisk/modules", nil},
		{"GET", "/asterisk/modules/{moduleName}", nil},
		{"POST", "/asterisk/modules/{moduleName}", nil},
		{"DELETE", "/asterisk/modules/{moduleName}", nil},
		{"PUT", "/asterisk/modules/{moduleName}", nil},
		{"GET", "/asterisk/logging", nil},
		{"POST", "/asterisk/logging/{logChannelName}", nil},
		{"DELETE", "/asterisk/logging/{logChannelName}", nil},
		{"PUT", "/asterisk/logging/{logChannelName}/rotate", nil},
		{"GET", "/asterisk/variable", hGetGlobalVar},
		{"POST", "/asterisk/variable", hSetGlobalVar},

		{"GET", "/endpoints", hListEndpoints},
		{"PUT", "/endpoints/sendMessage", nil},
		{"POST", "/endpoints/refer", nil},
		{"GET", "/endpoints/{tech}", hListEndpointsByTech},
		{"GET", "/endpoints/{tech}/{resource}", hGetEndpoint},
		{"PUT", "/endpoints/{tech}/{resource}/sendMessage", nil},
		{"POST", "/endpoints/{tech}/{resource}/refer", nil},

		{"GET", "/deviceStates", hListDeviceStates},
		{"GET", "/deviceStates/{deviceName}", hGetDeviceState},
		{"PUT", "/deviceStates/{deviceName}", hSetDeviceState},
		{"DELETE", "/deviceStates/{deviceName}", hDeleteDeviceState},

		{"GET", "/sounds", nil},
		{"GET", "/sounds/{soundId}", nil},

		{"GET", "/mailboxes", nil},
		{"GET", "/mailboxes/{mailboxName}", nil},
		{"PUT", "/mailboxes/{mailboxName}", nil},
		{"DELETE", "/mailboxes/{mailboxName}", nil},
	}
}

// routes is the tree built once from asteriskRoutes.
var routes = buildRoutes()

func buildRoutes() *routeNode {
	root := &routeNode{}
	for _, r := range asteriskRoutes() {
		n := root
		for _, seg := range strings.Split(strings.TrimPrefix(r.path, "/"), "/") {
			var next *routeNode
			for _, c := range n.children {
				if c.segment == seg {
					next = c
					break
				}
			}
			if next == nil {
				next = &routeNode{segment: seg}
				if strings.HasPrefix(seg, "{") {
					next.param = strings.Trim(seg, "{}")
				}
				n.children = append(n.children, next)
			}
			n = next
		}
		n.path = r.path
		if n.methods == nil {
			n.methods = map[string]handlerFunc{}
		}
		n.methods[r.method] = r.h
	}
	return root
}

// match walks the tree as Asterisk does: at each segment a literal child
// wins over a {wildcard}. It returns the node and its path parameters, or
// the status for an unknown path (404) or method (405).
func (root *routeNode) match(method string, segs []string) (*routeNode, map[string]string, int) {
	n := root
	params := map[string]string{}
	for _, seg := range segs {
		var lit, wild *routeNode
		for _, c := range n.children {
			if c.param == "" && c.segment == seg {
				lit = c
			} else if c.param != "" {
				wild = c
			}
		}
		switch {
		case lit != nil:
			n = lit
		case wild != nil && seg != "":
			n = wild
			params[wild.param] = seg
		default:
			return nil, nil, http.StatusNotFound
		}
	}
	if n.methods == nil {
		return nil, nil, http.StatusNotFound
	}
	h, ok := n.methods[method]
	if !ok {
		return nil, nil, http.StatusMethodNotAllowed
	}
	out := *n
	out.handler = h
	return &out, params, http.StatusOK
}
