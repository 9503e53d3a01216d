package ari

import (
	"context"
	"net/http"
)

// Bridges is the /bridges resource. Get it from Client.Bridges.
type Bridges struct{ c *Client }

// Bridges returns the /bridges resource.
func (c *Client) Bridges() Bridges { return Bridges{c} }

// BridgeParams are the parameters of POST /bridges.
type BridgeParams struct {
	// Type is a comma-separated list of bridge features: "mixing" (talk),
	// "holding" (wait), "dtmf_events", "proxy_media", "video_sfu",
	// "video_single", "sdp_label". Empty is "mixing" for Asterisk.
	Type string
	// ID chooses the bridge id; a duplicate gives ErrConflict.
	ID string
	// Name is a free label shown in the bridge's "name".
	Name string
}

// Create creates a bridge (POST /bridges, 200). No BridgeCreated event
// reaches the app for it.
func (r Bridges) Create(ctx context.Context, p BridgeParams) (*Bridge, error) {
	var out Bridge
	q := query{}.str("type", p.Type).str("bridgeId", p.ID).str("name", p.Name)
	if err := r.c.call(ctx, http.MethodPost, "/bridges", q, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// CreateWithID creates a bridge with the id in the path
// (POST /bridges/{bridgeId}), or updates an existing one; p.ID is ignored.
func (r Bridges) CreateWithID(ctx context.Context, id string, p BridgeParams) (*Bridge, error) {
	var out Bridge
	q := query{}.str("type", p.Type).str("name", p.Name)
	if err := r.c.call(ctx, http.MethodPost, Path("bridges", id), q, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// List returns every bridge (GET /bridges).
func (r Bridges) List(ctx context.Context) ([]Bridge, error) {
	var out []Bridge
	return out, r.c.call(ctx, http.MethodGet, "/bridges", nil, nil, &out)
}

// Get returns one bridge (GET /bridges/{bridgeId}).
func (r Bridges) Get(ctx context.Context, id string) (*Bridge, error) {
	var out Bridge
	if err := r.c.call(ctx, http.MethodGet, Path("bridges", id), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Destroy shuts a bridge down (DELETE /bridges/{bridgeId}); its channels
// stay up, out of the bridge. BridgeDestroyed follows.
func (r Bridges) Destroy(ctx context.Context, id string) error {
	return r.c.call(ctx, http.MethodDelete, Path("bridges", id), nil, nil, nil)
}

// AddChannelParams are the options of POST /bridges/{bridgeId}/addChannel.
type AddChannelParams struct {
	Role                        string
	AbsorbDTMF                  bool
	Mute                        bool
	InhibitConnectedLineUpdates bool
}

// AddChannel puts channels into a bridge (one ChannelEnteredBridge each,
// before the 204). A channel not in Stasis gives ErrUnprocessable; an
// unknown channel ErrBadRequest ("Channel not found").
func (r Bridges) AddChannel(ctx context.Context, id string, channelIDs []string, p AddChannelParams) error {
	q := query{}.list("channel", channelIDs).str("role", p.Role).boolean("absorbDTMF", p.AbsorbDTMF).
		boolean("mute", p.Mute).boolean("inhibitConnectedLineUpdates", p.InhibitConnectedLineUpdates)
	return r.c.call(ctx, http.MethodPost, Path("bridges", id, "addChannel"), q, nil, nil)
}

// RemoveChannel takes channels out of a bridge; one not in it gives
// ErrUnprocessable.
func (r Bridges) RemoveChannel(ctx context.Context, id string, channelIDs ...string) error {
	return r.c.call(ctx, http.MethodPost, Path("bridges", id, "removeChannel"), query{}.list("channel", channelIDs), nil, nil)
}

// StartMOH plays music on hold to the bridge ("" for the default class).
func (r Bridges) StartMOH(ctx context.Context, id, mohClass string) error {
	return r.c.call(ctx, http.MethodPost, Path("bridges", id, "moh"), query{}.str("mohClass", mohClass), nil, nil)
}

// StopMOH stops music on hold in the bridge.
func (r Bridges) StopMOH(ctx context.Context, id string) error {
	return r.c.call(ctx, http.MethodDelete, Path("bridges", id, "moh"), nil, nil, nil)
}

// Play plays media to everyone in the bridge (POST /bridges/{bridgeId}/play).
func (r Bridges) Play(ctx context.Context, id string, p PlayParams) (*Playback, error) {
	var out Playback
	if err := r.c.call(ctx, http.MethodPost, Path("bridges", id, "play"), p.query().str("playbackId", p.PlaybackID), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// PlayWithID is Play with the playback id in the path; p.PlaybackID is ignored.
func (r Bridges) PlayWithID(ctx context.Context, id, playbackID string, p PlayParams) (*Playback, error) {
	var out Playback
	if err := r.c.call(ctx, http.MethodPost, Path("bridges", id, "play", playbackID), p.query(), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Record records the bridge's mixed audio (POST /bridges/{bridgeId}/record).
func (r Bridges) Record(ctx context.Context, id string, p RecordParams) (*LiveRecording, error) {
	var out LiveRecording
	if err := r.c.call(ctx, http.MethodPost, Path("bridges", id, "record"), p.query(), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
