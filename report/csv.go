package report

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// CSVFiles lists the file names WriteCSV creates, one per table, in the
// order it writes them.
func CSVFiles() []string {
	return []string{"summary.csv", "inbound.csv", "weekday_hour.csv", "outbound.csv", "languages.csv", "operators.csv"}
}

// WriteCSV writes the report as one CSV file per table (see CSVFiles),
// each opened with create. The files are for the statistics office's
// tools, not for reading: numbers are plain (34620, 53.3: no grouping,
// decimal point, whatever lang), durations are in seconds, unknown
// figures are empty cells, and the first column holds stable English
// keys. Only the "label" columns follow lang, so that a spreadsheet shows
// the report's own wording next to the keys.
func WriteCSV(create func(name string) (io.WriteCloser, error), res *Result, lang Lang) error {
	f := newPrinter(lang)
	tables := map[string][][]string{
		"summary.csv":      summaryCSV(res, f),
		"inbound.csv":      inboundCSV(res, f),
		"weekday_hour.csv": weekdayCSV(res),
		"outbound.csv":     outboundCSV(res, f),
		"languages.csv":    languagesCSV(res, f),
		"operators.csv":    operatorsCSV(res),
	}
	for _, name := range CSVFiles() {
		if err := writeCSVFile(create, name, tables[name]); err != nil {
			return err
		}
	}
	return nil
}

// WriteCSVDir writes the CSV files into dir, which must exist. Existing
// files of the same names are replaced.
func WriteCSVDir(dir string, res *Result, lang Lang) error {
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("report: csv output: %w", err)
	}
	if !st.IsDir() {
		return fmt.Errorf("report: csv output %s is not a directory", dir)
	}
	return WriteCSV(func(name string) (io.WriteCloser, error) {
		return os.Create(filepath.Join(dir, name))
	}, res, lang)
}

func writeCSVFile(create func(string) (io.WriteCloser, error), name string, rows [][]string) (err error) {
	w, err := create(name)
	if err != nil {
		return fmt.Errorf("report: create %s: %w", name, err)
	}
	defer func() {
		if cerr := w.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("report: close %s: %w", name, cerr)
		}
	}()
	cw := csv.NewWriter(w)
	if err := cw.WriteAll(rows); err != nil {
		return fmt.Errorf("report: write %s: %w", name, errors.Join(err, cw.Error()))
	}
	return nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func ftoa(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func opt(v float64, ok bool) string {
	if !ok {
		return ""
	}
	return ftoa(v)
}

func secs(d time.Duration) string { return ftoa(secondsRounded(d)) }

func summaryCSV(res *Result, f *printer) [][]string {
	l := f.l
	prevTotal, change := "", ""
	if res.Previous.Known {
		prevTotal = itoa(res.Previous.Total)
		change = opt(res.Previous.ChangePercent, res.Previous.ChangeKnown)
	}
	avgTalk := ""
	if res.Talk.Calls > 0 {
		avgTalk = ftoa(round1(res.Talk.AverageSeconds))
	}
	return [][]string{
		{"key", "label", "value"},
		{"period_from", "", res.Period.From.Format(dateLayout)},
		{"period_to_exclusive", "", res.Period.To.Format(dateLayout)},
		{"timezone", "", res.Period.Location.String()},
		{"service", "", res.Service},
		{"talk_total_seconds", l.talkTotal, secs(res.Talk.Total)},
		{"talk_average_seconds", l.talkAverage, avgTalk},
		{"talk_calls", l.answered, itoa(res.Talk.Calls)},
		{"wait_average_seconds", l.waitAverage, opt(round1(res.Wait.AverageSeconds), res.Wait.Known)},
		{"wait_calls", l.answered, itoa(res.Wait.Calls)},
		{"previous_from", "", res.Previous.Period.From.Format(dateLayout)},
		{"previous_to_exclusive", "", res.Previous.Period.To.Format(dateLayout)},
		{"previous_total", l.total, prevTotal},
		{"change_percent", fmt.Sprintf(l.change, f.periodName(res.Previous.Period)), change},
		{"outbound_answered_share", l.outShare, opt(res.Outbound.AnsweredShare, res.Outbound.ShareKnown)},
	}
}

func inboundCSV(res *Result, f *printer) [][]string {
	l, in := f.l, &res.Inbound
	t, q := in.SharesOfTotal, in.SharesOfQueued
	return [][]string{
		{"category", "label", "count", "share_of_total", "share_of_queued"},
		{"queued", l.queued, itoa(in.Queued), ftoa(t.Queued), ""},
		{"answered", l.answered, itoa(in.Answered), "", ftoa(q.Answered)},
		{"unanswered", l.unanswered, itoa(in.Unanswered), "", ftoa(q.Unanswered)},
		{"voicemail", l.voicemail, itoa(in.Voicemail), "", ftoa(q.Voicemail)},
		{"abandoned", l.abandoned, itoa(in.Abandoned), "", ftoa(q.Abandoned)},
		{"blacklisted", l.blacklisted, itoa(in.Blacklisted), ftoa(t.Blacklisted), ""},
		{"welcome_hangup", l.welcome, itoa(in.WelcomeHangup), ftoa(t.WelcomeHangup), ""},
		{"total", l.total, itoa(in.Total), ftoa(sharesSum(in.Total)), ""},
	}
}

func weekdayCSV(res *Result) [][]string {
	w := &res.Weekday
	rows := [][]string{{"hour", "mon", "tue", "wed", "thu", "fri", "sat", "sun", "total"}}
	for h := range 24 {
		row := []string{strconv.Itoa(h)}
		for d := range 7 {
			row = append(row, itoa(w[d][h]))
		}
		rows = append(rows, append(row, itoa(w.HourTotal(h))))
	}
	row := []string{"total"}
	for d := range 7 {
		row = append(row, itoa(w.DayTotal(d)))
	}
	return append(rows, append(row, itoa(w.Total())))
}

func outboundCSV(res *Result, f *printer) [][]string {
	l, o := f.l, &res.Outbound
	return [][]string{
		{"outcome", "label", "count", "talk_seconds"},
		{"answered", l.outAnswered, itoa(o.Answered), secs(o.Talk)},
		{"busy", l.outBusy, itoa(o.Busy), "0"},
		{"no_answer", l.outNoAnswer, itoa(o.NoAnswer), "0"},
		{"failed", l.outFailed, itoa(o.Failed), "0"},
		{"total", l.outTotal, itoa(o.Total), secs(o.Talk)},
	}
}

func languagesCSV(res *Result, f *printer) [][]string {
	rows := [][]string{{"language", "label", "offered", "answered", "abandoned", "voicemail", "unanswered",
		"mean_wait_seconds", "p90_wait_seconds", "answered_within_20s_percent", "answered_within_60s_percent"}}
	row := func(key, label string, q *QueueFigures) []string {
		return []string{key, label, itoa(q.Offered), itoa(q.Answered), itoa(q.Abandoned), itoa(q.Voicemail),
			itoa(q.Unanswered), opt(round1(q.MeanWait.Seconds()), q.WaitKnown), opt(round1(q.P90Wait.Seconds()), q.WaitKnown),
			opt(q.WithinShort, q.ShareKnown), opt(q.WithinLong, q.ShareKnown)}
	}
	for i := range res.Languages {
		q := &res.Languages[i]
		rows = append(rows, row(q.Language, f.languageName(q.Language), q))
	}
	return append(rows, row("all", f.l.allLanguages, &res.AllLanguages))
}

func operatorsCSV(res *Result) [][]string {
	rows := [][]string{{"operator", "answered", "talk_seconds", "outbound", "outbound_talk_seconds", "logged_in_seconds"}}
	for _, op := range res.Operators {
		login := ""
		if res.LoginHoursKnown {
			login = secs(op.LoggedIn)
		}
		rows = append(rows, []string{op.Operator, itoa(op.Answered), secs(op.Talk), itoa(op.Outbound), secs(op.OutboundTalk), login})
	}
	return rows
}
