package ari

import (
	"context"
	"net/http"
)

// Applications is the /applications resource. Get it from Client.Applications.
type Applications struct{ c *Client }

// Applications returns the /applications resource.
func (c *Client) Applications() Applications { return Applications{c} }

// List returns the Stasis applications with a connected WebSocket.
func (r Applications) List(ctx context.Context) ([]Application, error) {
	var out []Application
	return out, r.c.call(ctx, http.MethodGet, "/applications", nil, nil, &out)
}

// Get returns one application; its ChannelIDs are the channels in Stasis
// for it, which is how calls are re-adopted after a restart.
func (r Applications) Get(ctx context.Context, name string) (*Application, error) {
	var out Application
	if err := r.c.call(ctx, http.MethodGet, Path("applications", name), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Subscribe adds event sources ("channel:<id>", "bridge:<id>",
// "endpoint:<tech>/<resource>", "deviceState:<name>"; Ref.String gives
// them) to an application.
func (r Applications) Subscribe(ctx context.Context, name string, eventSources ...string) (*Application, error) {
	var out Application
	if err := r.c.call(ctx, http.MethodPost, Path("applications", name, "subscription"), query{}.list("eventSource", eventSources), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Unsubscribe removes event sources from an application.
func (r Applications) Unsubscribe(ctx context.Context, name string, eventSources ...string) (*Application, error) {
	var out Application
	if err := r.c.call(ctx, http.MethodDelete, Path("applications", name, "subscription"), query{}.list("eventSource", eventSources), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Asterisk is the /asterisk resource. Get it from Client.Asterisk.
type Asterisk struct{ c *Client }

// Asterisk returns the /asterisk resource.
func (c *Client) Asterisk() Asterisk { return Asterisk{c} }

// Info returns system information (GET /asterisk/info), only the parts
// named ("build", "system", "config", "status") or all of them.
func (r Asterisk) Info(ctx context.Context, only ...string) (*AsteriskInfo, error) {
	var out AsteriskInfo
	if err := r.c.call(ctx, http.MethodGet, "/asterisk/info", query{}.list("only", only), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Ping checks that ARI answers (GET /asterisk/ping).
func (r Asterisk) Ping(ctx context.Context) (*AsteriskPing, error) {
	var out AsteriskPing
	if err := r.c.call(ctx, http.MethodGet, "/asterisk/ping", nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetVariable reads a global variable (GET /asterisk/variable).
func (r Asterisk) GetVariable(ctx context.Context, name string) (string, error) {
	var out Variable
	err := r.c.call(ctx, http.MethodGet, "/asterisk/variable", query{"variable": {name}}, nil, &out)
	return out.Value, err
}

// SetVariable sets a global variable (POST /asterisk/variable).
func (r Asterisk) SetVariable(ctx context.Context, name, value string) error {
	return r.c.call(ctx, http.MethodPost, "/asterisk/variable", query{"variable": {name}, "value": {value}}, nil, nil)
}

// Endpoints is the /endpoints resource. Get it from Client.Endpoints.
type Endpoints struct{ c *Client }

// Endpoints returns the /endpoints resource.
func (c *Client) Endpoints() Endpoints { return Endpoints{c} }

// List returns every endpoint (GET /endpoints).
func (r Endpoints) List(ctx context.Context) ([]Endpoint, error) {
	var out []Endpoint
	return out, r.c.call(ctx, http.MethodGet, "/endpoints", nil, nil, &out)
}

// ListByTech returns the endpoints of one technology, e.g. "PJSIP".
func (r Endpoints) ListByTech(ctx context.Context, tech string) ([]Endpoint, error) {
	var out []Endpoint
	return out, r.c.call(ctx, http.MethodGet, Path("endpoints", tech), nil, nil, &out)
}

// Get returns one endpoint, e.g. ("PJSIP", "op1001"); its State is
// "online" when a softphone is registered.
func (r Endpoints) Get(ctx context.Context, tech, resource string) (*Endpoint, error) {
	var out Endpoint
	if err := r.c.call(ctx, http.MethodGet, Path("endpoints", tech, resource), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeviceStates is the /deviceStates resource. Get it from Client.DeviceStates.
type DeviceStates struct{ c *Client }

// DeviceStates returns the /deviceStates resource.
func (c *Client) DeviceStates() DeviceStates { return DeviceStates{c} }

// List returns the device states ARI controls (GET /deviceStates).
func (r DeviceStates) List(ctx context.Context) ([]DeviceState, error) {
	var out []DeviceState
	return out, r.c.call(ctx, http.MethodGet, "/deviceStates", nil, nil, &out)
}

// Get returns one device state, e.g. "Stasis:op1001".
func (r DeviceStates) Get(ctx context.Context, name string) (*DeviceState, error) {
	var out DeviceState
	if err := r.c.call(ctx, http.MethodGet, Path("deviceStates", name), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Update sets a device state ("NOT_INUSE", "INUSE", "BUSY", ...; the
// DeviceState* constants) (PUT /deviceStates/{deviceName}).
func (r DeviceStates) Update(ctx context.Context, name, state string) error {
	return r.c.call(ctx, http.MethodPut, Path("deviceStates", name), query{"deviceState": {state}}, nil, nil)
}

// Delete removes a device state (DELETE /deviceStates/{deviceName}).
func (r DeviceStates) Delete(ctx context.Context, name string) error {
	return r.c.call(ctx, http.MethodDelete, Path("deviceStates", name), nil, nil, nil)
}
