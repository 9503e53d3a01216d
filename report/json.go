package report

import (
	"encoding/json"
	"io"
	"math"
	"time"
)

// JSONVersion is the "version" key of the JSON report. It changes only
// when a documented key changes meaning or disappears; new keys may be
// added within a version.
const JSONVersion = 1

// The JSON report's shape is a stable interface (the statistics office and
// the dashboards read it); the structs below are that shape and nothing
// else, kept apart from Result so that refactoring Result cannot change
// it by accident. Figures that the text report shows with one decimal are
// given rounded the same way; "*_exact_*" keys carry full precision.
// Unknown figures (no calls to average, no previous data) are null.
type jsonReport struct {
	Version       int            `json:"version"`
	Period        jsonPeriod     `json:"period"`
	Service       string         `json:"service,omitempty"`
	Inbound       jsonInbound    `json:"inbound"`
	Talk          jsonTalk       `json:"talk"`
	Wait          jsonWait       `json:"wait"`
	ByWeekdayHour jsonWeek       `json:"by_weekday_hour"`
	Outbound      jsonOutbound   `json:"outbound"`
	Previous      jsonPrevious   `json:"previous"`
	Languages     []jsonQueue    `json:"languages"`
	AllLanguages  jsonQueue      `json:"all_languages"`
	Operators     []jsonOperator `json:"operators"`
	Skipped       jsonSkipped    `json:"skipped"`
}

type jsonPeriod struct {
	From     string `json:"from"`
	To       string `json:"to"`
	Timezone string `json:"timezone"`
}

type jsonInbound struct {
	Total         int64 `json:"total"`
	Queued        int64 `json:"queued"`
	Answered      int64 `json:"answered"`
	Unanswered    int64 `json:"unanswered"`
	Voicemail     int64 `json:"voicemail"`
	Abandoned     int64 `json:"abandoned"`
	Blacklisted   int64 `json:"blacklisted"`
	WelcomeHangup int64 `json:"welcome_hangup"`
	// Calls that vanished with a switchboard restart (see Inbound); absent when none.
	EngineRestart           int64            `json:"engine_restart,omitempty"`
	EngineRestartUnanswered int64            `json:"engine_restart_unanswered,omitempty"`
	SharesOfTotal           jsonTotalShares  `json:"shares_of_total"`
	SharesOfQueued          jsonQueuedShares `json:"shares_of_queued"`
}

type jsonTotalShares struct {
	Queued        float64 `json:"queued"`
	Blacklisted   float64 `json:"blacklisted"`
	WelcomeHangup float64 `json:"welcome_hangup"`
}

type jsonQueuedShares struct {
	Answered   float64 `json:"answered"`
	Unanswered float64 `json:"unanswered"`
	Voicemail  float64 `json:"voicemail"`
	Abandoned  float64 `json:"abandoned"`
}

// jsonWeek is the weekday × hour table: per weekday, 24 counts with the
// hour 0:00–0:59 first.
type jsonWeek struct {
	Mon []int64 `json:"mon"`
	Tue []int64 `json:"tue"`
	Wed []int64 `json:"wed"`
	Thu []int64 `json:"thu"`
	Fri []int64 `json:"fri"`
	Sat []int64 `json:"sat"`
	Sun []int64 `json:"sun"`
}

type jsonTalk struct {
	TotalSeconds        float64  `json:"total_seconds"`
	AverageSeconds      *float64 `json:"average_seconds"`
	AverageExactSeconds *float64 `json:"average_exact_seconds"`
	Calls               int64    `json:"calls"`
	AverageDefinition   string   `json:"average_definition"`
}

type jsonWait struct {
	AverageSeconds      *float64 `json:"average_seconds"`
	AverageExactSeconds *float64 `json:"average_exact_seconds"`
	Calls               int64    `json:"calls"`
}

type jsonOutbound struct {
	Answered      int64    `json:"answered"`
	Busy          int64    `json:"busy"`
	NoAnswer      int64    `json:"no_answer"`
	Failed        int64    `json:"failed"`
	Total         int64    `json:"total"`
	AnsweredShare *float64 `json:"answered_share"`
	TalkSeconds   float64  `json:"talk_seconds"`
}

type jsonPrevious struct {
	From          string   `json:"from"`
	To            string   `json:"to"`
	Total         *int64   `json:"total"`
	ChangePercent *float64 `json:"change_percent"`
}

type jsonQueue struct {
	Language        string   `json:"language,omitempty"`
	Offered         int64    `json:"offered"`
	Answered        int64    `json:"answered"`
	Abandoned       int64    `json:"abandoned"`
	Voicemail       int64    `json:"voicemail"`
	Unanswered      int64    `json:"unanswered"`
	MeanWaitSeconds *float64 `json:"mean_wait_seconds"`
	P90WaitSeconds  *float64 `json:"p90_wait_seconds"`
	Within20Percent *float64 `json:"answered_within_20s_percent"`
	Within60Percent *float64 `json:"answered_within_60s_percent"`
}

type jsonOperator struct {
	Operator            string   `json:"operator"`
	Answered            int64    `json:"answered"`
	TalkSeconds         float64  `json:"talk_seconds"`
	Outbound            int64    `json:"outbound"`
	OutboundTalkSeconds float64  `json:"outbound_talk_seconds"`
	LoggedInSeconds     *float64 `json:"logged_in_seconds"`
}

type jsonSkipped struct {
	OutsidePeriod        int64 `json:"outside_period"`
	OtherService         int64 `json:"other_service"`
	UnknownDirection     int64 `json:"unknown_direction"`
	UnknownOutcome       int64 `json:"unknown_outcome"`
	AnsweredWithoutTimes int64 `json:"answered_without_times"`
}

// WriteJSON writes res as one indented JSON document. Its shape is
// stable (see JSONVersion); the keys the statistics office relies on:
//
//	{"version": 1,
//	 "period": {"from": "2025-06-01", "to": "2025-09-01", "timezone": "Europe/Rome"},  // to exclusive
//	 "inbound": {"total", "queued", "answered", "unanswered", "voicemail", "abandoned",
//	             "blacklisted", "welcome_hangup",
//	             "shares_of_total": {"queued": 53.3, "blacklisted": 17.8, "welcome_hangup": 28.9},
//	             "shares_of_queued": {"answered": 86.2, "unanswered": 5.1, "voicemail": 0.3, "abandoned": 8.4}},
//	 "talk": {"total_seconds", "average_seconds" (one decimal; null without calls), "calls"},
//	 "wait": {"average_seconds": 36.5 (null without answered calls), "calls"},
//	 "by_weekday_hour": {"mon": [24 counts, hour 0 first], …, "sun": […]},
//	 "outbound": {"answered", "busy", "no_answer", "failed", "total",
//	              "answered_share": 65.7 (null without calls), "talk_seconds"},
//	 "previous": {"from", "to", "total": n or null, "change_percent": x or null},
//	 "languages": [...], "all_languages": {...}, "operators": [...], "skipped": {...}}
//
// Counts are integers, durations whole seconds, percentages one decimal.
func WriteJSON(w io.Writer, res *Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(toJSON(res))
}

func toJSON(res *Result) jsonReport {
	in := &res.Inbound
	j := jsonReport{
		Version: JSONVersion,
		Period:  periodJSON(res.Period),
		Service: res.Service,
		Inbound: jsonInbound{
			Total: in.Total, Queued: in.Queued, Answered: in.Answered, Unanswered: in.Unanswered,
			Voicemail: in.Voicemail, Abandoned: in.Abandoned, Blacklisted: in.Blacklisted, WelcomeHangup: in.WelcomeHangup,
			EngineRestart: in.EngineRestart, EngineRestartUnanswered: in.EngineRestartUnanswered,
			SharesOfTotal:  jsonTotalShares(in.SharesOfTotal),
			SharesOfQueued: jsonQueuedShares(in.SharesOfQueued),
		},
		Talk: jsonTalk{
			TotalSeconds:      secondsRounded(res.Talk.Total),
			Calls:             res.Talk.Calls,
			AverageDefinition: "total_seconds / calls (answered inbound calls)",
		},
		Wait: jsonWait{Calls: res.Wait.Calls},
		Outbound: jsonOutbound{
			Answered: res.Outbound.Answered, Busy: res.Outbound.Busy, NoAnswer: res.Outbound.NoAnswer,
			Failed: res.Outbound.Failed, Total: res.Outbound.Total,
			TalkSeconds: secondsRounded(res.Outbound.Talk),
		},
		Previous: jsonPrevious{
			From: res.Previous.Period.From.Format(dateLayout),
			To:   res.Previous.Period.To.Format(dateLayout),
		},
		Languages:    []jsonQueue{},
		AllLanguages: queueJSON(&res.AllLanguages),
		Operators:    []jsonOperator{},
		Skipped: jsonSkipped{
			OutsidePeriod: res.Skipped.OutsidePeriod, OtherService: res.Skipped.OtherService,
			UnknownDirection: res.Skipped.UnknownDirection, UnknownOutcome: res.Skipped.UnknownOutcome,
			AnsweredWithoutTimes: res.Skipped.AnsweredWithoutTimes,
		},
	}
	if res.Talk.Calls > 0 {
		j.Talk.AverageSeconds = ptr(round1(res.Talk.AverageSeconds))
		j.Talk.AverageExactSeconds = ptr(res.Talk.AverageSeconds)
	}
	if res.Wait.Known {
		j.Wait.AverageSeconds = ptr(round1(res.Wait.AverageSeconds))
		j.Wait.AverageExactSeconds = ptr(res.Wait.AverageSeconds)
	}
	w := &res.Weekday
	day := func(d int) []int64 { return append([]int64(nil), w[d][:]...) }
	j.ByWeekdayHour = jsonWeek{day(0), day(1), day(2), day(3), day(4), day(5), day(6)}
	if res.Outbound.ShareKnown {
		j.Outbound.AnsweredShare = ptr(res.Outbound.AnsweredShare)
	}
	if res.Previous.Known {
		j.Previous.Total = ptr(res.Previous.Total)
		if res.Previous.ChangeKnown {
			j.Previous.ChangePercent = ptr(res.Previous.ChangePercent)
		}
	}
	for i := range res.Languages {
		j.Languages = append(j.Languages, queueJSON(&res.Languages[i]))
	}
	for _, op := range res.Operators {
		jo := jsonOperator{
			Operator: op.Operator, Answered: op.Answered, TalkSeconds: secondsRounded(op.Talk),
			Outbound: op.Outbound, OutboundTalkSeconds: secondsRounded(op.OutboundTalk),
		}
		if res.LoginHoursKnown {
			jo.LoggedInSeconds = ptr(secondsRounded(op.LoggedIn))
		}
		j.Operators = append(j.Operators, jo)
	}
	return j
}

func periodJSON(p Period) jsonPeriod {
	return jsonPeriod{From: p.From.Format(dateLayout), To: p.To.Format(dateLayout), Timezone: p.Location.String()}
}

func queueJSON(q *QueueFigures) jsonQueue {
	j := jsonQueue{
		Language: q.Language, Offered: q.Offered, Answered: q.Answered, Abandoned: q.Abandoned,
		Voicemail: q.Voicemail, Unanswered: q.Unanswered,
	}
	if q.WaitKnown {
		j.MeanWaitSeconds = ptr(round1(q.MeanWait.Seconds()))
		j.P90WaitSeconds = ptr(round1(q.P90Wait.Seconds()))
	}
	if q.ShareKnown {
		j.Within20Percent = ptr(q.WithinShort)
		j.Within60Percent = ptr(q.WithinLong)
	}
	return j
}

func ptr[T any](v T) *T { return &v }

// round1 rounds to one decimal, half away from zero, as the text shows it.
func round1(v float64) float64 { return math.Round(v*10) / 10 }

func secondsRounded(d time.Duration) float64 { return float64(d.Round(time.Second) / time.Second) }
