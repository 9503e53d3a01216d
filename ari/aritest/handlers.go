package aritest

import (
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/helpline-it/helpline/ari"
)

func hListChannels(s *Server, rq *request) response {
	s.lock()
	defer s.unlock()
	out := []ari.Channel{}
	for _, c := range s.w.chanOrder {
		if !c.gone {
			out = append(out, c.snap())
		}
	}
	return ok(out)
}

func hGetChannel(s *Server, rq *request) response {
	s.lock()
	defer s.unlock()
	c := s.w.findChannel(rq.path["channelId"])
	if c == nil {
		return fail(404, "Channel not found")
	}
	return ok(c.snap())
}

// hContinue leaves Stasis and resumes the dialplan: at the given location,
// else at the priority after Stasis().
func hContinue(s *Server, rq *request) response {
	ctx, exten := rq.param("context"), rq.param("extension")
	prio, _ := strconv.Atoi(rq.param("priority"))
	return s.asyncCommand(rq, func(c *channel) {
		w := &s.w
		w.leaveStasis(c)
		if ctx != "" || exten != "" {
			if ctx == "" {
				ctx = c.dp.Context
			}
			if exten == "" {
				exten = c.dp.Exten
			}
			if c.run != nil {
				c.run.stop()
			}
			if !w.startDialplan(c, ctx, exten, nil) {
				w.selfHangup(c, 16)
				return
			}
			if prio > 1 && c.run != nil {
				c.run.timer.cancel()
				c.run.prio = prio - 1
				c.run.next(0)
			}
			return
		}
		if c.run != nil {
			c.run.next(0)
			return
		}
		w.selfHangup(c, 16)
	})
}

// hMove moves the channel to another app: StasisEnd here, StasisStart
// there; ApplicationMoveFailed if that app has no socket.
func hMove(s *Server, rq *request) response {
	s.lock()
	defer s.unlock()
	c, r := s.stasisChannel(rq)
	if c == nil {
		return r
	}
	target := rq.param("app")
	if target == "" {
		return fail(400, "Missing parameter app")
	}
	var args []string
	if aa := rq.param("appArgs"); aa != "" {
		args = strings.Split(aa, ",")
	}
	c.ctl.push(&command{run: func(done func()) {
		w := &s.w
		if w.active(target) == nil {
			if args == nil {
				args = []string{}
			}
			w.emit(&ari.ApplicationMoveFailed{Channel: c.snap(), Destination: target, Args: args})
			done()
			return
		}
		old := c.stasisApp
		if c.bridge != nil {
			w.leaveBridge(c)
		}
		w.emit(&ari.StasisEnd{Channel: c.snap()})
		old.unfollow(c, subStasis|subOriginate)
		c.stasisApp = nil
		w.enterStasis(c, target, args)
		done()
	}})
	return noContent()
}

// readChannelValue is GET /variable: dialplan functions and variables.
func (w *world) readChannelValue(c *channel, name string) (string, bool, bool) {
	if strings.HasSuffix(name, ")") {
		switch strings.ToUpper(name) {
		case "CALLERID(NUM)":
			return c.caller.Number, true, true
		case "CALLERID(NAME)":
			return c.caller.Name, true, true
		case "CHANNEL(LANGUAGE)":
			return c.language, true, true
		case "CHANNEL(NAME)":
			return c.name, true, true
		case "CHANNEL(UNIQUEID)":
			return c.id, true, true
		case "CHANNEL(STATE)":
			return c.state, true, true
		case "CONNECTEDLINE(NUM)":
			return c.connected.Number, true, true
		case "CONNECTEDLINE(NAME)":
			return c.connected.Name, true, true
		}
		return "", false, false
	}
	v, ok := c.vars[name]
	if !ok {
		v, ok = w.globals[name]
	}
	return v, ok, true
}

func hGetVar(s *Server, rq *request) response {
	s.lock()
	defer s.unlock()
	name := rq.param("variable")
	if name == "" {
		return fail(400, "Variable name is required")
	}
	c := s.w.findChannel(rq.path["channelId"])
	if c == nil {
		return fail(404, "Channel not found")
	}
	v, found, fnOK := s.w.readChannelValue(c, name)
	if !fnOK {
		return fail(500, "Unable to read provided function")
	}
	if !found {
		return fail(404, "Provided variable was not found")
	}
	return ok(ari.Variable{Value: v})
}

// hSetVar runs through the channel's queue: Asterisk 22 answers it only
// when it ran (rest_errors: 27 s behind a prompt).
func hSetVar(s *Server, rq *request) response {
	s.lock()
	defer s.unlock()
	name := rq.param("variable")
	if name == "" {
		return fail(400, "Variable name is required")
	}
	c, r := s.stasisChannel(rq)
	if c == nil {
		return r
	}
	val := rq.param("value")
	return s.syncCommand(rq, c, func() response {
		s.w.setChannelValue(c, name, val)
		return noContent()
	}, fail(400, "Failed to execute function"))
}

func hGetVars(s *Server, rq *request) response {
	s.lock()
	defer s.unlock()
	names := rq.param("variables")
	if names == "" {
		return fail(400, "Missing variables parameter.")
	}
	c := s.w.findChannel(rq.path["channelId"])
	if c == nil {
		return fail(404, "Channel not found")
	}
	out := ari.Variables{Variables: map[string]string{}}
	for _, n := range strings.Split(names, ",") {
		v, found, fnOK := s.w.readChannelValue(c, n)
		if !fnOK || !found {
			return fail(404, "Provided variable was not found")
		}
		out.Variables[n] = v
	}
	return ok(out)
}

func hSetVars(s *Server, rq *request) response {
	s.lock()
	defer s.unlock()
	if len(rq.varOrder) == 0 {
		return fail(400, "Missing variables parameter.")
	}
	c, r := s.stasisChannel(rq)
	if c == nil {
		return r
	}
	order, vars := rq.varOrder, rq.variables
	return s.syncCommand(rq, c, func() response {
		for _, k := range order {
			s.w.setChannelValue(c, k, vars[k])
		}
		return noContent()
	}, fail(400, "Failed to execute function"))
}

func hGetGlobalVar(s *Server, rq *request) response {
	s.lock()
	defer s.unlock()
	name := rq.param("variable")
	if name == "" {
		return fail(400, "Variable name is required")
	}
	return ok(ari.Variable{Value: s.w.globals[name]})
}

func hSetGlobalVar(s *Server, rq *request) response {
	s.lock()
	defer s.unlock()
	name := rq.param("variable")
	if name == "" {
		return fail(400, "Variable name is required")
	}
	s.w.globals[name] = rq.param("value")
	return noContent()
}

// ---- applications ----

func hListApps(s *Server, rq *request) response {
	s.lock()
	defer s.unlock()
	out := []ari.Application{}
	for _, a := range s.w.appOrder {
		if a.subscribed {
			out = append(out, s.w.appJSON(a))
		}
	}
	return ok(out)
}

func (s *Server) findApp(rq *request) *app {
	a := s.w.apps[rq.path["applicationName"]]
	if a == nil || !a.subscribed {
		return nil
	}
	return a
}

func hGetApp(s *Server, rq *request) response {
	s.lock()
	defer s.unlock()
	a := s.findApp(rq)
	if a == nil {
		return fail(404, "Application not found")
	}
	return ok(s.w.appJSON(a))
}

// eventSources parses eventSource ("channel:<id>,bridge:<id>,
// endpoint:<tech>/<resource>,deviceState:<name>") against the world.
func (s *Server) eventSources(rq *request) ([]ari.Ref, response) {
	src := rq.param("eventSource")
	if src == "" {
		return nil, fail(400, "Missing parameter eventSource")
	}
	var refs []ari.Ref
	for _, one := range strings.Split(src, ",") {
		r, okRef := ari.ParseRef(strings.TrimSpace(one))
		if !okRef {
			return nil, fail(400, "Invalid event source URI scheme")
		}
		exists := false
		switch r.Kind {
		case ari.RefChannel:
			exists = s.w.findChannel(r.ID) != nil
		case ari.RefBridge:
			exists = s.w.bridges[r.ID] != nil
		case ari.RefEndpoint:
			tech, res, _ := strings.Cut(r.ID, "/")
			exists = tech == "PJSIP" && (res == "" || s.w.endpoint(res) != nil)
		case ari.RefDeviceState:
			exists = true
		default:
			return nil, fail(400, "Invalid event source URI scheme")
		}
		if !exists {
			return nil, fail(422, "Event source does not exist")
		}
		refs = append(refs, r)
	}
	return refs, response{}
}

func hSubscribe(s *Server, rq *request) response {
	s.lock()
	defer s.unlock()
	a := s.findApp(rq)
	if a == nil {
		return fail(404, "Application not found")
	}
	refs, r := s.eventSources(rq)
	if refs == nil {
		return r
	}
	for _, ref := range refs {
		switch ref.Kind {
		case ari.RefChannel:
			a.chans[ref.ID] |= subExplicit
		case ari.RefBridge:
			a.bridges[ref.ID] = true
		case ari.RefEndpoint:
			a.endpoints[ref.ID] = true
		case ari.RefDeviceState:
			a.devices[ref.ID] = true
		}
	}
	return ok(s.w.appJSON(a))
}

func hUnsubscribe(s *Server, rq *request) response {
	s.lock()
	defer s.unlock()
	a := s.findApp(rq)
	if a == nil {
		return fail(404, "Application not found")
	}
	refs, r := s.eventSources(rq)
	if refs == nil {
		return r
	}
	for _, ref := range refs {
		subscribed := false
		switch ref.Kind {
		case ari.RefChannel:
			subscribed = a.chans[ref.ID] != 0
		case ari.RefBridge:
			subscribed = a.bridges[ref.ID]
		case ari.RefEndpoint:
			subscribed = a.endpoints[ref.ID]
		case ari.RefDeviceState:
			subscribed = a.devices[ref.ID]
		}
		if !subscribed {
			return fail(409, "Application not subscribed to event source")
		}
	}
	for _, ref := range refs {
		switch ref.Kind {
		case ari.RefChannel:
			delete(a.chans, ref.ID)
		case ari.RefBridge:
			delete(a.bridges, ref.ID)
		case ari.RefEndpoint:
			delete(a.endpoints, ref.ID)
		case ari.RefDeviceState:
			delete(a.devices, ref.ID)
		}
	}
	return ok(s.w.appJSON(a))
}

func hEventFilter(s *Server, rq *request) response {
	s.lock()
	defer s.unlock()
	a := s.findApp(rq)
	if a == nil {
		return fail(404, "Application not found")
	}
	var f struct {
		Allowed    []json.RawMessage `json:"allowed"`
		Disallowed []json.RawMessage `json:"disallowed"`
	}
	if len(rq.body) > 0 {
		var wrapper struct {
			Filter *json.RawMessage `json:"filter"`
		}
		raw := rq.body
		if json.Unmarshal(rq.body, &wrapper) == nil && wrapper.Filter != nil {
			raw = *wrapper.Filter
		}
		if err := json.Unmarshal(raw, &f); err != nil {
			return fail(400, "Bad request")
		}
	}
	a.allowed, a.disallowed = f.Allowed, f.Disallowed
	return ok(s.w.appJSON(a))
}

// ---- asterisk, endpoints, device states ----

func hInfo(s *Server, rq *request) response {
	s.lock()
	defer s.unlock()
	st := ari.Time{Time: s.started}
	full := ari.AsteriskInfo{
		Build:  &ari.BuildInfo{OS: "Linux", Kernel: "6.18.44-fc-v769", Machine: "x86_64", Options: "OPTIONAL_API", Date: "2026-11-23 14:42:04 UTC", User: "root"},
		System: &ari.SystemInfo{Version: "22.10.1", EntityID: s.cfg.AsteriskID},
		Config: &ari.ConfigInfo{Name: "", DefaultLanguage: "en", SetID: ari.SetID{}},
		Status: &ari.StatusInfo{StartupTime: st, LastReloadTime: st},
	}
	only := rq.param("only")
	if only == "" {
		return ok(full)
	}
	var out ari.AsteriskInfo
	for _, part := range strings.Split(only, ",") {
		switch part {
		case "build":
			out.Build = full.Build
		case "system":
			out.System = full.System
		case "config":
			out.Config = full.Config
		case "status":
			out.Status = full.Status
		}
	}
	return ok(out)
}

func hPing(s *Server, rq *request) response {
	s.lock()
	defer s.unlock()
	return ok(ari.AsteriskPing{Ping: "pong", Timestamp: ari.Time{Time: s.now()}.String(), AsteriskID: s.cfg.AsteriskID})
}

func hListEndpoints(s *Server, rq *request) response {
	s.lock()
	defer s.unlock()
	out := []ari.Endpoint{}
	for _, e := range s.w.endpoints {
		out = append(out, s.w.endpointJSON(e))
	}
	return ok(out)
}

func hListEndpointsByTech(s *Server, rq *request) response {
	s.lock()
	defer s.unlock()
	if rq.path["tech"] != "PJSIP" {
		return fail(404, "No Endpoints found - invalid tech "+rq.path["tech"])
	}
	out := []ari.Endpoint{}
	for _, e := range s.w.endpoints {
		out = append(out, s.w.endpointJSON(e))
	}
	return ok(out)
}

func hGetEndpoint(s *Server, rq *request) response {
	s.lock()
	defer s.unlock()
	if rq.path["tech"] != "PJSIP" {
		return fail(404, "Endpoint not found")
	}
	e := s.w.endpoint(rq.path["resource"])
	if e == nil {
		return fail(404, "Endpoint not found")
	}
	return ok(s.w.endpointJSON(e))
}

func hListDeviceStates(s *Server, rq *request) response {
	s.lock()
	defer s.unlock()
	names := make([]string, 0, len(s.w.devices))
	for n := range s.w.devices {
		names = append(names, n)
	}
	sort.Strings(names)
	out := []ari.DeviceState{}
	for _, n := range names {
		out = append(out, ari.DeviceState{Name: n, State: s.w.devices[n]})
	}
	return ok(out)
}

func hGetDeviceState(s *Server, rq *request) response {
	s.lock()
	defer s.unlock()
	n := rq.path["deviceName"]
	st, found := s.w.devices[n]
	if !found {
		st = ari.DeviceStateUnknown
	}
	return ok(ari.DeviceState{Name: n, State: st})
}

var deviceStates = map[string]bool{
	ari.DeviceStateUnknown: true, ari.DeviceStateNotInuse: true, ari.DeviceStateInuse: true,
	ari.DeviceStateBusy: true, ari.DeviceStateInvalid: true, ari.DeviceStateUnavailable: true,
	ari.DeviceStateRinging: true, ari.DeviceStateRinginuse: true, ari.DeviceStateOnhold: true,
}

func hSetDeviceState(s *Server, rq *request) response {
	s.lock()
	defer s.unlock()
	n := rq.path["deviceName"]
	if !strings.HasPrefix(n, "Stasis:") {
		return fail(409, "Uncontrolled device specified")
	}
	st := rq.param("deviceState")
	if !deviceStates[st] {
		return fail(400, "Invalid device state")
	}
	s.w.devices[n] = st
	s.w.emit(&ari.DeviceStateChanged{DeviceState: ari.DeviceState{Name: n, State: st}})
	return noContent()
}

func hDeleteDeviceState(s *Server, rq *request) response {
	s.lock()
	defer s.unlock()
	n := rq.path["deviceName"]
	if !strings.HasPrefix(n, "Stasis:") {
		return fail(409, "Uncontrolled device specified")
	}
	if _, found := s.w.devices[n]; !found {
		return fail(404, "Device name is missing")
	}
	delete(s.w.devices, n)
	return noContent()
}

var _ = http.StatusOK
