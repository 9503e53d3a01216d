package main

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/rs/zerolog"

	"github.com/helpline-it/helpline/ari"
	"github.com/helpline-it/helpline/config"
	"github.com/helpline-it/helpline/queue"
)

// The admin API is what a supervisor or an administrator needs in an
// emergency when no softphone or shell is at hand: pause, unpause or log
// out an operator (one who left the desk with the phone logged in, a
// phone that keeps ringing out), see the calls in progress, and take the
// node out of service. It lives on serve's health/metrics listener, which
// binds loopback unless http.allow_public (and then the config demands a
// token). Every endpoint changes or shows live state, so every one needs
// the bearer token of http.admin_token_env/_file; without a token
// configured the API is off and answers 403, saying why.
//
// Hostile requests are refused before anything changes: a body over
// adminMaxBody, JSON that does not decode or has unknown fields, an
// operator the configuration does not list, a path that is not canonical
// (dot segments, double or encoded slashes, backslashes), a wrong method.
// No response carries a caller number: calls are shown by channel id,
// language and wait, as the queue keeps them.

// adminMaxBody bounds an admin request's body: the largest legitimate one
// is a pause reason.
const adminMaxBody = 4 << 10

// adminMaxReason bounds a pause reason (it is shown on supervisors' screens).
const adminMaxReason = 200

// adminMaxRecording bounds a voicemail served by the admin API (the
// flow's limit is minutes of 8 kHz audio: a few MB).
const adminMaxRecording = 64 << 20

// recordingStore is the part of Asterisk's recording store the admin API
// reads (ari.Recordings in production).
type recordingStore interface {
	ListStored(ctx context.Context) ([]ari.StoredRecording, error)
	StoredFile(ctx context.Context, name string) (*ari.File, error)
}

// adminAPI serves /admin/ for one node.
type adminAPI struct {
	tokenSum [sha256.Size]byte // of the token; zero when the API is off
	enabled  bool
	q        queue.Queue
	recs     recordingStore
	ops      map[string]config.Operator
	clock    clockwork.Clock
	log      zerolog.Logger
	mux      *http.ServeMux

	drainOnce sync.Once
	drain     context.CancelFunc
}

// newAdminAPI builds the admin API. drain stops the node as SIGTERM does
// (no new call, calls in progress finish, then exit). With a zero token
// the API is off; that is said once in the log here.
func newAdminAPI(cfg *config.Config, token config.Secret, q queue.Queue, recs recordingStore, clock clockwork.Clock,
	log zerolog.Logger, drain context.CancelFunc) *adminAPI {
	a := &adminAPI{q: q, recs: recs, ops: map[string]config.Operator{}, clock: clock, drain: drain,
		log: log.With().Str("component", "admin").Logger()}
	for _, op := range cfg.Operators {
		a.ops[op.ID] = op
	}
	if token.IsZero() {
		a.log.Warn().Msg("admin API off: no http.admin_token_env or http.admin_token_file configured; /admin/ answers 403")
	} else {
		a.enabled = true
		a.tokenSum = sha256.Sum256([]byte(token.Reveal()))
		a.log.Info().Msg("admin API on at /admin/ (bearer token)")
	}
	m := http.NewServeMux()
	m.HandleFunc("GET /admin/calls", a.calls)
	m.HandleFunc("GET /admin/operators", a.operators)
	m.HandleFunc("POST /admin/operators/{id}/{action}", a.operatorAction)
	m.HandleFunc("POST /admin/drain", a.drainNode)
	m.HandleFunc("GET /admin/recordings", a.recordings)
	m.HandleFunc("GET /admin/recordings/{name}", a.recording)
	a.mux = m
	return a
}

// mount serves /admin/ with the admin API and everything else with next.
func (a *adminAPI) mount(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/admin/") {
			next.ServeHTTP(w, r)
			return
		}
		a.ServeHTTP(w, r)
	})
}

// ServeHTTP checks the path, the API's state and the token, then routes.
func (a *adminAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if msg := badAdminPath(r); msg != "" {
		adminError(w, http.StatusBadRequest, msg)
		return
	}
	if !a.enabled {
		adminError(w, http.StatusForbidden, "admin API off: the node has no http.admin_token_env or http.admin_token_file")
		return
	}
	if !a.authorized(r) {
		a.log.Warn().Str("remote", r.RemoteAddr).Str("method", r.Method).Str("path", r.URL.Path).
			Msg("admin request refused: missing or wrong bearer token")
		w.Header().Set("WWW-Authenticate", `Bearer realm="helpline admin"`)
		adminError(w, http.StatusUnauthorized, "missing or wrong token: send Authorization: Bearer <http.admin_token>")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	a.mux.ServeHTTP(w, r)
}

// authorized compares the bearer token in constant time (over hashes, so
// not even the length leaks).
func (a *adminAPI) authorized(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	const scheme = "bearer "
	if len(h) <= len(scheme) || !strings.EqualFold(h[:len(scheme)], scheme) {
		return false
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(h[len(scheme):])))
	return subtle.ConstantTimeCompare(sum[:], a.tokenSum[:]) == 1
}

// badAdminPath says what is wrong with a path that is not canonical, so
// that no dot segment or encoded separator reaches a handler (nor the
// mux's redirect of unclean paths, a 3xx where a 4xx is due).
func badAdminPath(r *http.Request) string {
	raw := r.URL.EscapedPath()
	lower := strings.ToLower(raw)
	switch {
	case strings.Contains(lower, "%2f"), strings.Contains(lower, "%5c"), strings.Contains(lower, "%2e"), strings.Contains(lower, "%00"):
		return "encoded separators or dots are not allowed in an admin path"
	case strings.Contains(r.URL.Path, "\\"), strings.Contains(r.URL.Path, "\x00"):
		return "backslashes and NULs are not allowed in an admin path"
	case strings.Contains(r.URL.Path, "//"):
		return "empty path segments are not allowed in an admin path"
	}
	for _, seg := range strings.Split(r.URL.Path, "/") {
		if seg == "." || seg == ".." {
			return "dot segments are not allowed in an admin path"
		}
	}
	return ""
}

// adminCall is a call in progress as the admin API shows it: no number.
type adminCall struct {
	ID          string  `json:"id"`
	Language    string  `json:"language"`
	Node        string  `json:"node,omitempty"`
	Enqueued    string  `json:"enqueued"`
	WaitSeconds float64 `json:"wait_seconds"`
	OfferedTo   string  `json:"offered_to,omitempty"`
}

// adminOperator is an operator's live state.
type adminOperator struct {
	ID          string   `json:"id"`
	Name        string   `json:"name,omitempty"`
	State       string   `json:"state"`
	Since       string   `json:"since,omitempty"`
	PauseReason string   `json:"pause_reason,omitempty"`
	Call        string   `json:"call,omitempty"`
	Languages   []string `json:"languages,omitempty"`
}

// calls answers GET /admin/calls: the calls waiting or being offered, and
// the calls operators are talking on (by channel id).
func (a *adminAPI) calls(w http.ResponseWriter, r *http.Request) {
	now := a.clock.Now()
	snap, err := a.q.Snapshot(r.Context(), now)
	if err != nil {
		a.storeError(w, "reading the queue", err)
		return
	}
	out := struct {
		At      string      `json:"at"`
		Waiting []adminCall `json:"waiting"`
		Talking []adminCall `json:"talking"`
	}{At: now.UTC().Format(time.RFC3339), Waiting: []adminCall{}, Talking: []adminCall{}}
	for lang, calls := range snap.Waiting {
		for _, c := range calls {
			out.Waiting = append(out.Waiting, adminCall{ID: c.ID, Language: lang, Node: c.Node,
				Enqueued: c.Enqueued.UTC().Format(time.RFC3339), WaitSeconds: now.Sub(c.Enqueued).Seconds(), OfferedTo: c.OfferedTo})
		}
	}
	for _, op := range snap.Operators {
		if op.State == queue.Busy && op.CallID != "" {
			out.Talking = append(out.Talking, adminCall{ID: op.CallID, OfferedTo: op.ID,
				Enqueued: op.Since.UTC().Format(time.RFC3339), WaitSeconds: now.Sub(op.Since).Seconds()})
		}
	}
	adminJSON(w, http.StatusOK, out)
}

// operators answers GET /admin/operators: every configured operator with
// their live state (logged_out for those not logged in).
func (a *adminAPI) operators(w http.ResponseWriter, r *http.Request) {
	snap, err := a.q.Snapshot(r.Context(), a.clock.Now())
	if err != nil {
		a.storeError(w, "reading the queue", err)
		return
	}
	live := map[string]queue.Operator{}
	for _, op := range snap.Operators {
		live[op.ID] = op
	}
	out := []adminOperator{}
	for _, op := range snap.Operators {
		out = append(out, toAdminOperator(op, a.ops[op.ID].Name))
	}
	for id, op := range a.ops {
		if _, ok := live[id]; !ok {
			out = append(out, adminOperator{ID: id, Name: op.Name, State: string(queue.LoggedOut)})
		}
	}
	slices.SortFunc(out, func(x, y adminOperator) int { return strings.Compare(x.ID, y.ID) })
	adminJSON(w, http.StatusOK, out)
}

func toAdminOperator(op queue.Operator, name string) adminOperator {
	o := adminOperator{ID: op.ID, Name: name, State: string(op.State), PauseReason: op.PauseReason,
		Call: op.CallID, Languages: op.Skills}
	if o.State == "" {
		o.State = string(queue.LoggedOut)
	}
	if !op.Since.IsZero() {
		o.Since = op.Since.UTC().Format(time.RFC3339)
	}
	return o
}

// pauseRequest is the optional body of POST /admin/operators/{id}/pause.
type pauseRequest struct {
	Reason string `json:"reason"`
}

// operatorAction answers POST /admin/operators/{id}/pause|unpause|logout.
func (a *adminAPI) operatorAction(w http.ResponseWriter, r *http.Request) {
	id, action := r.PathValue("id"), r.PathValue("action")
	if action != "pause" && action != "unpause" && action != "logout" {
		adminError(w, http.StatusNotFound, fmt.Sprintf("unknown operator action %q: want pause, unpause or logout", truncateForError(action)))
		return
	}
	if _, ok := a.ops[id]; !ok {
		adminError(w, http.StatusNotFound, fmt.Sprintf("unknown operator %q: not in the configuration's operators", truncateForError(id)))
		return
	}
	var body pauseRequest
	if err := decodeAdminBody(w, r, &body); err != nil {
		adminError(w, bodyStatus(err), err.Error())
		return
	}
	if action != "pause" && body.Reason != "" {
		adminError(w, http.StatusBadRequest, "reason: only a pause takes a reason")
		return
	}
	if len(body.Reason) > adminMaxReason || strings.ContainsAny(body.Reason, "\r\n\x00") {
		adminError(w, http.StatusBadRequest, fmt.Sprintf("reason: at most %d characters on one line", adminMaxReason))
		return
	}
	ctx, now := r.Context(), a.clock.Now()
	var err error
	switch action {
	case "pause":
		reason := body.Reason
		if reason == "" {
			reason = "admin"
		}
		err = a.q.Pause(ctx, id, reason, now)
	case "unpause":
		err = a.q.Unpause(ctx, id, now)
	case "logout":
		err = a.q.Logout(ctx, id, now)
	}
	switch {
	case errors.Is(err, queue.ErrUnknownOperator):
		adminError(w, http.StatusNotFound, fmt.Sprintf("operator %s is not logged in", id))
		return
	case errors.Is(err, queue.ErrBadState):
		op, _ := a.q.Operator(ctx, id)
		adminError(w, http.StatusConflict, fmt.Sprintf("operator %s is %s: cannot %s now", id, orLoggedOut(op.State), action))
		return
	case err != nil:
		a.storeError(w, action+" "+id, err)
		return
	}
	a.log.Info().Str("operator", id).Str("action", action).Str("remote", r.RemoteAddr).Msg("admin: operator " + action)
	op, err := a.q.Operator(ctx, id)
	if err != nil {
		adminJSON(w, http.StatusOK, adminOperator{ID: id, State: "unknown"})
		return
	}
	adminJSON(w, http.StatusOK, toAdminOperator(op, a.ops[id].Name))
}

// drainNode answers POST /admin/drain: the node stops as on SIGTERM.
func (a *adminAPI) drainNode(w http.ResponseWriter, r *http.Request) {
	var body struct{}
	if err := decodeAdminBody(w, r, &body); err != nil {
		adminError(w, bodyStatus(err), err.Error())
		return
	}
	first := false
	a.drainOnce.Do(func() {
		first = true
		a.log.Warn().Str("remote", r.RemoteAddr).Msg("admin: drain requested: taking no new call, letting calls in progress finish, then stopping")
		a.drain()
	})
	adminJSON(w, http.StatusAccepted, map[string]any{"draining": true, "already": !first})
}

// recordings answers GET /admin/recordings: the voicemails Asterisk keeps
// (names only: vm-<channel id>, no number).
func (a *adminAPI) recordings(w http.ResponseWriter, r *http.Request) {
	all, err := a.recs.ListStored(r.Context())
	if err != nil {
		a.log.Error().Err(err).Msg("admin: listing recordings")
		adminError(w, http.StatusBadGateway, "listing Asterisk's recordings failed: "+err.Error())
		return
	}
	out := []ari.StoredRecording{}
	for _, rec := range all {
		if validRecordingName(rec.Name) {
			out = append(out, rec)
		}
	}
	adminJSON(w, http.StatusOK, out)
}

// recording answers GET /admin/recordings/{name}: one voicemail's audio,
// streamed from Asterisk. Only names the flow gives voicemails are
// accepted (vm- and [A-Za-z0-9._-]), so no name can walk out of the
// recordings (no '/', no "..", nothing encoded).
func (a *adminAPI) recording(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if !validRecordingName(name) {
		adminError(w, http.StatusBadRequest, fmt.Sprintf("recording name %q: want vm- followed by letters, digits, '.', '-' or '_' (no path)", truncateForError(name)))
		return
	}
	f, err := a.recs.StoredFile(r.Context(), name)
	if errors.Is(err, ari.ErrNotFound) {
		adminError(w, http.StatusNotFound, "no recording "+name)
		return
	}
	if err != nil {
		a.log.Error().Err(err).Str("recording", name).Msg("admin: reading a recording")
		adminError(w, http.StatusBadGateway, "reading the recording from Asterisk failed: "+err.Error())
		return
	}
	defer f.Body.Close()
	if f.Size > adminMaxRecording {
		adminError(w, http.StatusBadGateway, fmt.Sprintf("recording %s is %d bytes, over the %d this API serves", name, f.Size, adminMaxRecording))
		return
	}
	ct := f.ContentType
	if !strings.HasPrefix(ct, "audio/") {
		ct = "application/octet-stream"
	}
	a.log.Info().Str("recording", name).Str("remote", r.RemoteAddr).Msg("admin: recording fetched")
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if f.Size >= 0 {
		w.Header().Set("Content-Length", fmt.Sprint(f.Size))
	}
	_, _ = io.Copy(w, io.LimitReader(f.Body, adminMaxRecording))
}

// validRecordingName reports whether name is a voicemail name as
// ivr.VoicemailName makes them.
func validRecordingName(name string) bool {
	if len(name) <= len("vm-") || len(name) > 128 || !strings.HasPrefix(name, "vm-") || strings.Contains(name, "..") {
		return false
	}
	for i := 0; i < len(name); i++ {
		b := name[i]
		if !(b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '.' || b == '-' || b == '_') {
			return false
		}
	}
	return true
}

// storeError answers a queue failure: 503 when the store is unreachable.
func (a *adminAPI) storeError(w http.ResponseWriter, what string, err error) {
	a.log.Error().Err(err).Str("what", what).Msg("admin request failed")
	if queue.IsUnavailable(err) {
		adminError(w, http.StatusServiceUnavailable, what+": the queue store is unreachable")
		return
	}
	adminError(w, http.StatusInternalServerError, what+": "+err.Error())
}

// errBodyTooLarge marks a body over adminMaxBody.
var errBodyTooLarge = fmt.Errorf("body larger than %d bytes", adminMaxBody)

// decodeAdminBody reads an optional JSON object into v: an empty body is
// an empty object; anything else must be one object with known fields.
func decodeAdminBody(w http.ResponseWriter, r *http.Request, v any) error {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, adminMaxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return errBodyTooLarge
		}
		return fmt.Errorf("reading the body: %w", err)
	}
	if len(strings.TrimSpace(string(data))) == 0 {
		return nil
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("body is not the expected JSON object: %w", err)
	}
	if dec.More() {
		return errors.New("body has data after the JSON object")
	}
	return nil
}

func bodyStatus(err error) int {
	if errors.Is(err, errBodyTooLarge) {
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusBadRequest
}

func orLoggedOut(s queue.State) queue.State {
	if s == "" {
		return queue.LoggedOut
	}
	return s
}

// truncateForError keeps a hostile path segment short in an answer.
func truncateForError(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

func adminJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func adminError(w http.ResponseWriter, code int, msg string) {
	adminJSON(w, code, map[string]string{"error": msg})
}
