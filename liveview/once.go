package liveview

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"time"

	"github.com/helpline-it/helpline/queue"
)

// Once reads the queue and today's records once and returns the picture,
// for `helpline queue --once` and `--json`. The Board is always usable:
// when the queue cannot be read, its Status says so and the error is
// returned too (a monitoring script exits non-zero on it).
func Once(ctx context.Context, d Deps, o Options) (Board, error) {
	if d.Queue == nil {
		return Board{}, fmt.Errorf("liveview: no queue")
	}
	o.fill()
	now := o.Clock.Now().In(o.Location)
	start, end := dayBounds(now, o.Location)
	day := newDayCounters(start, end)
	if d.Records != nil {
		rc, err := loadRecords(ctx, d.Records, o.Service, start, end)
		if err != nil {
			day.err = err
		} else {
			day.setRecords(rc, now)
		}
	}
	qctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	snap, err := readSnapshot(qctx, d.Queue, now)
	in := boardInput{service: o.Service, now: now, alert: o.Alert, languages: o.Languages,
		names: o.OperatorNames, today: day.today(d.Records != nil), staleness: o.StaleAfter}
	in.status.Single = true
	if err != nil {
		if queue.IsUnavailable(err) {
			in.status.RedisDown, in.status.RedisErr, in.status.DownSince = true, rootCause(err), now
		} else {
			in.status.Err = err.Error()
		}
		return buildBoard(in), fmt.Errorf("liveview: reading the queue: %w", err)
	}
	in.snap = &snap
	return buildBoard(in), nil
}

// WriteText writes b as the plain-text picture of --once: the screen's
// layout without colours, selection or help, as tall as needed.
func WriteText(w io.Writer, b Board, width int) error {
	s := render(&b, NewStyles(MonochromeRenderer()), width, 0, frameUI{})
	_, err := io.WriteString(w, s+"\n")
	return err
}

// JSONVersion is the version of the --json shape; it changes only when a
// field is removed or changes meaning (new fields may appear).
const JSONVersion = 1

// jsonBoard is the --json shape (version 1). Times are RFC 3339 in the
// service time zone; durations are whole seconds (floored). Example:
//
//	{
//	  "version": 1,
//	  "service": "1522",
//	  "at": "2025-06-03T21:14:05+02:00",
//	  "status": {"ok": true, "redis": "ok", "events": false, "data_at": "2025-06-03T21:14:05+02:00", "age_seconds": 0, "stale": false},
//	  "alert_after_seconds": 120,
//	  "waiting": 1,
//	  "longest_wait_seconds": 161, "longest_wait_language": "it", "alert": true,
//	  "languages": [
//	    {"code": "it", "name": "Italiano", "free": 1, "staffed": 2, "logged_in": 3, "longest_wait_seconds": 161, "alert": true,
//	     "waiting": [{"position": 1, "tag": "3f9a2c01", "waiting_seconds": 161, "alert": true, "ringing_operator": ""}]}
//	  ],
//	  "operators": [
//	    {"id": "op-1", "name": "Anna", "state": "paused", "skills": ["it"], "in_state_seconds": 300,
//	     "pause_reason": "supervisor:bob", "call_tag": "", "wrap_left_seconds": 0}
//	  ],
//	  "today": {"known": true, "since": "2025-06-03T00:00:00+02:00", "offered": 112, "answered": 98,
//	            "abandoned": 9, "voicemail": 3, "unanswered": 0, "pending": 2,
//	            "answered_within_20s_pct": 71.4, "answered_within_60s_pct": 85.7, "average_wait_seconds": 23.4}
//	}
//
// status.redis is "ok", "unreachable" or "error" (status.error says
// why); status.ok is true when the data is fresh and complete;
// status.events is always false here (a single read subscribes to
// nothing). Per language, free counts available operators with the
// skill, staffed those not paused, logged_in all of them. Shares
// and the average are null when undefined (nothing offered, nothing
// answered); today.known is false, with today.note, when the call
// records could not be read. Languages are in menu order and always all
// listed, operators by ID. Tags are never numbers (see package callerid).
type jsonBoard struct {
	Version     int            `json:"version"`
	Service     string         `json:"service"`
	At          string         `json:"at"`
	Status      jsonStatus     `json:"status"`
	AlertAfter  int64          `json:"alert_after_seconds"`
	Waiting     int            `json:"waiting"`
	Longest     int64          `json:"longest_wait_seconds"`
	LongestLang string         `json:"longest_wait_language"`
	Alert       bool           `json:"alert"`
	Languages   []jsonLanguage `json:"languages"`
	Operators   []jsonOperator `json:"operators"`
	Today       jsonToday      `json:"today"`
}

type jsonStatus struct {
	OK         bool    `json:"ok"`
	Redis      string  `json:"redis"`
	Error      string  `json:"error,omitempty"`
	DownSince  *string `json:"down_since,omitempty"`
	Events     bool    `json:"events"`
	DataAt     *string `json:"data_at"`
	AgeSeconds int64   `json:"age_seconds"`
	Stale      bool    `json:"stale"`
}

type jsonLanguage struct {
	Code     string        `json:"code"`
	Name     string        `json:"name"`
	Free     int           `json:"free"`
	Staffed  int           `json:"staffed"`
	LoggedIn int           `json:"logged_in"`
	Longest  int64         `json:"longest_wait_seconds"`
	Alert    bool          `json:"alert"`
	Waiting  []jsonWaiting `json:"waiting"`
}

type jsonWaiting struct {
	Position int    `json:"position"`
	Tag      string `json:"tag"`
	Waiting  int64  `json:"waiting_seconds"`
	Alert    bool   `json:"alert"`
	Ringing  string `json:"ringing_operator"`
}

type jsonOperator struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	State       string   `json:"state"`
	Skills      []string `json:"skills"`
	InState     int64    `json:"in_state_seconds"`
	PauseReason string   `json:"pause_reason"`
	CallTag     string   `json:"call_tag"`
	WrapLeft    int64    `json:"wrap_left_seconds"`
}

type jsonToday struct {
	Known       bool     `json:"known"`
	Note        string   `json:"note,omitempty"`
	Since       string   `json:"since"`
	Offered     int64    `json:"offered"`
	Answered    int64    `json:"answered"`
	Abandoned   int64    `json:"abandoned"`
	Voicemail   int64    `json:"voicemail"`
	Unanswered  int64    `json:"unanswered"`
	Pending     int64    `json:"pending"`
	WithinShort *float64 `json:"answered_within_20s_pct"`
	WithinLong  *float64 `json:"answered_within_60s_pct"`
	AvgWait     *float64 `json:"average_wait_seconds"`
}

func secs(d time.Duration) int64 { return int64(d / time.Second) }

// WriteJSON writes b in the --json shape (see jsonBoard), indented, with
// a final newline.
func WriteJSON(w io.Writer, b Board) error {
	loc := b.At.Location()
	ts := func(t time.Time) string { return t.In(loc).Format(time.RFC3339) }
	j := jsonBoard{
		Version: JSONVersion, Service: b.Service, At: ts(b.At), AlertAfter: secs(b.Alert),
		Waiting: b.waitingCount(), Longest: secs(b.Longest), LongestLang: b.LongestLang,
		Alert:     b.Alert > 0 && b.waitingCount() > 0 && b.Longest >= b.Alert,
		Languages: []jsonLanguage{}, Operators: []jsonOperator{},
	}
	s := b.Status
	j.Status = jsonStatus{Redis: "ok", Events: s.Events, AgeSeconds: secs(s.Age), Stale: s.Stale}
	switch {
	case s.RedisDown:
		j.Status.Redis, j.Status.Error = "unreachable", s.RedisErr
		d := ts(s.DownSince)
		j.Status.DownSince = &d
	case s.Err != "":
		j.Status.Redis, j.Status.Error = "error", s.Err
	}
	if !s.DataAt.IsZero() {
		d := ts(s.DataAt)
		j.Status.DataAt = &d
	}
	j.Status.OK = j.Status.Redis == "ok" && !s.Stale && !s.DataAt.IsZero()
	for _, l := range b.Languages {
		jl := jsonLanguage{Code: l.Code, Name: l.Name, Free: l.Free, Staffed: l.Staffed, LoggedIn: l.LoggedIn, Longest: secs(l.Longest), Alert: l.Alert, Waiting: []jsonWaiting{}}
		for _, c := range l.Waiting {
			jl.Waiting = append(jl.Waiting, jsonWaiting{Position: c.Position, Tag: c.Tag, Waiting: secs(c.Waited), Alert: c.Alert, Ringing: c.RingingOp})
		}
		j.Languages = append(j.Languages, jl)
	}
	for _, o := range b.Operators {
		skills := o.Skills
		if skills == nil {
			skills = []string{}
		}
		j.Operators = append(j.Operators, jsonOperator{ID: o.ID, Name: o.Name, State: string(o.State), Skills: skills,
			InState: secs(o.InState), PauseReason: o.PauseReason, CallTag: o.CallTag, WrapLeft: secs(o.WrapLeft)})
	}
	t := b.Today
	j.Today = jsonToday{Known: t.Known, Note: t.Note, Since: ts(t.Since), Offered: t.Offered, Answered: t.Answered,
		Abandoned: t.Abandoned, Voicemail: t.Voicemail, Unanswered: t.Unanswered, Pending: t.Pending}
	if t.Known && t.ShareOK {
		ws, wl := t.WithinShort, t.WithinLong
		j.Today.WithinShort, j.Today.WithinLong = &ws, &wl
	}
	if t.Known && t.AvgOK {
		a := math.Round(t.AvgWait.Seconds()*10) / 10
		j.Today.AvgWait = &a
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(j)
}
