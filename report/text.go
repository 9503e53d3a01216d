package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// WriteText renders res as aligned plain-text tables for a terminal, in
// the order and with the labels of the published report (sections 1–4
// and 8), followed by the service indicators by language and operator.
func WriteText(w io.Writer, res *Result, lang Lang) error {
	f := newPrinter(lang)
	l := f.l
	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format, args...) }
	in := &res.Inbound

	p("%s\n", l.title)
	p(l.generatedNote+" ", f.periodName(res.Period))
	p(l.tzNote+"\n", res.Period.Location)
	if res.Service != "" {
		p("Service: %s\n", res.Service)
	}

	// 1. Inbound calls.
	p("\n%s\n\n", l.secInbound)
	t := newTable("lrrr", fmt.Sprintf(l.colPeriod, f.periodName(res.Period)), l.colCount, l.colShareTotal, l.colShareQueued)
	t.row(l.queued, f.int(in.Queued), f.pct(in.SharesOfTotal.Queued), "")
	t.row(l.answered, f.int(in.Answered), "", f.pct(in.SharesOfQueued.Answered))
	t.row(l.unanswered, f.int(in.Unanswered), "", f.pct(in.SharesOfQueued.Unanswered))
	t.row(l.voicemail, f.int(in.Voicemail), "", f.pct(in.SharesOfQueued.Voicemail))
	t.row(l.abandoned, f.int(in.Abandoned), "", f.pct(in.SharesOfQueued.Abandoned))
	t.row(l.blacklisted, f.int(in.Blacklisted), f.pct(in.SharesOfTotal.Blacklisted), "")
	t.row(l.welcome, f.int(in.WelcomeHangup), f.pct(in.SharesOfTotal.WelcomeHangup), "")
	t.rule()
	t.row(l.total, f.int(in.Total), f.pct(sharesSum(in.Total)), "")
	t.write(bw)
	if note := restartFootnote(f, in); note != "" {
		p("%s\n", note)
	}
	p("%s: %s\n", fmt.Sprintf(l.change, f.periodName(res.Previous.Period)), previousText(f, &res.Previous))
	p("%s\n", l.source)

	p("\n%s (%s)\n\n", l.pieTitle, f.int(in.Queued))
	t = newTable("lr", "", "")
	for _, s := range queuedSlices(in, l) {
		t.row(s.label, f.pct(s.share))
	}
	t.writeBody(bw)

	// 2. Talk time.
	p("\n%s\n\n", l.secTalk)
	t = newTable("lr", "", "")
	t.row(l.talkTotal, f.duration(res.Talk.Total))
	t.row(l.talkAverage+" (1)", talkAverageText(f, &res.Talk))
	t.writeBody(bw)
	p("\n"+l.talkFootnote+"\n", f.duration(res.Talk.Total), f.int(res.Talk.Calls))
	p("%s\n", l.source)

	// 3. Wait.
	p("\n%s\n\n", l.secWait)
	p("%s\n", waitText(f, &res.Wait))

	// 4. Weekday × hour.
	p("\n%s\n\n", l.secWeekday)
	head := append([]string{l.hourDay}, l.days[:]...)
	head = append(head, l.tot)
	t = newTable("lrrrrrrrr", head...)
	for h := range 24 {
		cells := []string{hourLabel(h)}
		for d := range 7 {
			cells = append(cells, f.int(res.Weekday[d][h]))
		}
		t.row(append(cells, f.int(res.Weekday.HourTotal(h)))...)
	}
	t.rule()
	cells := []string{l.tot}
	for d := range 7 {
		cells = append(cells, f.int(res.Weekday.DayTotal(d)))
	}
	t.row(append(cells, f.int(res.Weekday.Total()))...)
	t.write(bw)
	p("%s\n", l.source)

	// 8. Outbound.
	o := &res.Outbound
	p("\n%s\n\n", l.secOutbound)
	t = newTable("lr", "", "")
	t.row(l.outAnswered, f.int(o.Answered))
	t.row(l.outBusy, f.int(o.Busy))
	t.row(l.outNoAnswer, f.int(o.NoAnswer))
	t.row(l.outFailed, f.int(o.Failed))
	t.row(l.outTalk, f.duration(o.Talk))
	t.row(l.outTotal, f.int(o.Total))
	t.row(l.outShare, optPct(f, o.AnsweredShare, o.ShareKnown))
	t.writeBody(bw)
	p("%s\n", l.source)

	// Part 2.
	p("\n%s\n%s\n\n%s\n\n", strings.Repeat("=", utf8.RuneCountInString(l.part2)), l.part2, l.secLanguages)
	t = newTable("lrrrrrrrrr", l.colLanguage, l.colOffered, l.colAnswered, l.colAbandoned, l.colVoicemail,
		l.colUnanswered, l.colMeanWait, l.colP90Wait, l.colWithin20, l.colWithin60)
	for _, q := range res.Languages {
		t.row(languageRow(f, f.languageName(q.Language), &q)...)
	}
	t.rule()
	t.row(languageRow(f, l.allLanguages, &res.AllLanguages)...)
	t.write(bw)

	p("\n%s\n\n", l.secOperators)
	t = newTable("lrrrrrr", l.colOperator, l.colOpAnswered, l.colOpTalk, l.colOpAverage, l.colOpOut, l.colOpOutTalk, l.colOpLogin)
	for _, op := range res.Operators {
		t.row(operatorRow(f, res, &op)...)
	}
	t.write(bw)
	if !res.LoginHoursKnown {
		p("%s\n", l.loginNote)
	}

	p("\n%s\n", l.definitions[0])
	for _, d := range l.definitions[1:] {
		p("- %s\n", d)
	}
	if sk := res.Skipped; sk.Total() > 0 || sk.AnsweredWithoutTimes > 0 {
		p("\n"+l.skipped+"\n", f.int(sk.OutsidePeriod), f.int(sk.OtherService),
			f.int(sk.UnknownDirection+sk.UnknownOutcome), f.int(sk.AnsweredWithoutTimes))
	}
	return bw.Flush()
}

// sharesSum is the share shown on the total row: 100 % of something, or
// nothing of nothing.
func sharesSum(total int64) float64 {
	if total == 0 {
		return 0
	}
	return 100
}

type slice struct {
	key   string
	label string
	count int64
	share float64
}

// queuedSlices is the queued-call breakdown (the published pie chart), in
// the table's order.
func queuedSlices(in *Inbound, l *labels) []slice {
	return []slice{
		{"answered", l.answered, in.Answered, in.SharesOfQueued.Answered},
		{"unanswered", l.unanswered, in.Unanswered, in.SharesOfQueued.Unanswered},
		{"voicemail", l.voicemail, in.Voicemail, in.SharesOfQueued.Voicemail},
		{"abandoned", l.abandoned, in.Abandoned, in.SharesOfQueued.Abandoned},
	}
}

func previousText(f *printer, prev *Previous) string {
	if !prev.Known {
		return f.l.na
	}
	if !prev.ChangeKnown {
		return f.l.na + " (" + f.int(prev.Total) + ")"
	}
	return f.signedPct(prev.ChangePercent) + " (" + f.int(prev.Total) + ")"
}

func talkAverageText(f *printer, t *Talk) string {
	if t.Calls == 0 {
		return f.l.na
	}
	return f.duration(t.Average)
}

func waitText(f *printer, w *Wait) string {
	if !w.Known {
		return f.l.waitNone
	}
	return fmt.Sprintf(f.l.waitSentence, fmt.Sprintf(f.l.waitSeconds, f.dec1(w.AverageSeconds)))
}

func optPct(f *printer, v float64, ok bool) string {
	if !ok {
		return f.l.na
	}
	return f.pct(v)
}

func languageRow(f *printer, name string, q *QueueFigures) []string {
	mean, p90 := f.l.na, f.l.na
	if q.WaitKnown {
		mean, p90 = f.seconds(q.MeanWait), f.seconds(q.P90Wait)
	}
	return []string{name, f.int(q.Offered), f.int(q.Answered), f.int(q.Abandoned), f.int(q.Voicemail),
		f.int(q.Unanswered), mean, p90, optPct(f, q.WithinShort, q.ShareKnown), optPct(f, q.WithinLong, q.ShareKnown)}
}

func operatorRow(f *printer, res *Result, op *OperatorFigures) []string {
	name := op.Operator
	if name == "" {
		name = f.l.unknownOperator
	}
	avg := f.l.na
	if op.Answered > 0 {
		avg = f.duration(op.Talk / time.Duration(op.Answered))
	}
	login := f.l.na
	if res.LoginHoursKnown {
		login = f.duration(op.LoggedIn)
	}
	return []string{name, f.int(op.Answered), f.duration(op.Talk), avg, f.int(op.Outbound), f.duration(op.OutboundTalk), login}
}

// table lays out cells in columns padded to the widest cell (in runes).
type table struct {
	align string // one 'l' or 'r' per column
	head  []string
	rows  [][]string // nil row = horizontal rule
}

func newTable(align string, head ...string) *table { return &table{align: align, head: head} }

func (t *table) row(cells ...string) { t.rows = append(t.rows, cells) }
func (t *table) rule()               { t.rows = append(t.rows, nil) }

func (t *table) widths(withHead bool) []int {
	w := make([]int, len(t.align))
	all := t.rows
	if withHead {
		all = append([][]string{t.head}, all...)
	}
	for _, r := range all {
		for i, c := range r {
			w[i] = max(w[i], utf8.RuneCountInString(c))
		}
	}
	return w
}

// write prints the header, a rule and the rows.
func (t *table) write(w io.Writer) {
	wd := t.widths(true)
	t.line(w, wd, t.head)
	t.line(w, wd, nil)
	for _, r := range t.rows {
		t.line(w, wd, r)
	}
}

// writeBody prints the rows only (two-column label/value tables).
func (t *table) writeBody(w io.Writer) {
	wd := t.widths(false)
	for _, r := range t.rows {
		t.line(w, wd, r)
	}
}

func (t *table) line(w io.Writer, wd []int, cells []string) {
	var b strings.Builder
	total := 0
	for i, n := range wd {
		total += n
		if i > 0 {
			total += 2
		}
	}
	if cells == nil {
		b.WriteString(strings.Repeat("-", total))
	}
	for i, c := range cells {
		if i > 0 {
			b.WriteString("  ")
		}
		pad := strings.Repeat(" ", wd[i]-utf8.RuneCountInString(c))
		if t.align[i] == 'r' {
			b.WriteString(pad + c)
		} else {
			b.WriteString(c + pad)
		}
	}
	fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
}
