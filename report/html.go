package report

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"strconv"
)

//go:embed report.html.tmpl
var htmlSource string

// WriteHTML renders res as one self-contained HTML page: inline CSS and
// inline SVG, no scripts, fonts or images fetched from anywhere, so the
// file can be mailed, archived and printed as it is. It shows the same
// tables as WriteText plus the two charts of the published report: the
// pie of the queued-call breakdown and the weekday × hour table as a
// heat map.
func WriteHTML(w io.Writer, res *Result, lang Lang) error {
	// Parsing per call keeps the package free of globals; it costs well
	// under a millisecond against a report that is made once a quarter.
	tmpl, err := template.New("report").Parse(htmlSource)
	if err != nil {
		return fmt.Errorf("report: html template: %w", err)
	}
	if err := tmpl.Execute(w, newHTMLView(res, lang)); err != nil {
		return fmt.Errorf("report: html: %w", err)
	}
	return nil
}

type htmlView struct {
	Lang, Title, Period, TZNote, Service, Source string

	InboundTitle string
	Inbound      htmlTable
	Change       string
	PieTitle     string
	Pie          htmlPie

	TalkTitle    string
	Talk         htmlTable
	TalkFootnote string
	// RestartFootnote is set when calls were lost with a switchboard restart.
	RestartFootnote string

	WaitTitle, WaitText string

	WeekTitle string
	Week      htmlHeat

	OutboundTitle string
	Outbound      htmlTable

	Part2, Part2Note string
	LanguagesTitle   string
	Languages        htmlTable
	OperatorsTitle   string
	Operators        htmlTable
	LoginNote        string

	DefinitionsTitle string
	Definitions      []string
	Skipped          string
}

type htmlTable struct {
	Head []string
	Rows []htmlRow
}

type htmlRow struct {
	Cells []string
	Total bool // a totals row: bold, ruled above
}

type htmlPie struct {
	Size    int
	Circle  *htmlSlice // the only non-empty slice: a full disc
	Slices  []htmlSlice
	Legend  []htmlSlice
	Caption string
}

type htmlSlice struct {
	Class, Path, Label, Share string
	Count                     string
	// TX, TY place the share on the slice when OnSlice (big enough).
	TX, TY  string
	OnSlice bool
	// CX, CY, R draw a full disc (Circle).
	CX, CY, R int
}

type htmlHeat struct {
	Corner string
	Days   []string
	Tot    string
	Rows   []htmlHeatRow
	Totals []string
	Grand  string
	Scale  []htmlHeatLevel
}

type htmlHeatRow struct {
	Hour  string
	Cells []htmlHeatCell
	Total string
}

type htmlHeatCell struct {
	Value string
	Level int // 0–8, the shade class
	Title string
}

type htmlHeatLevel struct {
	Level int
	From  string
}

// heatLevels is the number of shades above zero in the heat map.
const heatLevels = 8

// restartFootnote is the inbound section's note on calls lost with a
// switchboard restart ("" when there were none).
func restartFootnote(f *printer, in *Inbound) string {
	if in.EngineRestart == 0 {
		return ""
	}
	return fmt.Sprintf(f.l.restartFootnote, f.int(in.EngineRestart), f.int(in.EngineRestartUnanswered))
}

func newHTMLView(res *Result, lang Lang) *htmlView {
	f := newPrinter(lang)
	l := f.l
	in := &res.Inbound
	v := &htmlView{
		Lang:    string(f.lang),
		Title:   l.title,
		Period:  f.periodName(res.Period),
		TZNote:  fmt.Sprintf(l.tzNote, res.Period.Location),
		Service: res.Service,
		Source:  l.source,

		InboundTitle: l.secInbound,
		Change:       fmt.Sprintf(l.change, f.periodName(res.Previous.Period)) + ": " + previousText(f, &res.Previous),
		PieTitle:     l.pieTitle + " (" + f.int(in.Queued) + ")",

		RestartFootnote: restartFootnote(f, in),
		TalkTitle:       l.secTalk,
		TalkFootnote:    fmt.Sprintf(l.talkFootnote, f.duration(res.Talk.Total), f.int(res.Talk.Calls)),
		WaitTitle:       l.secWait,
		WaitText:        waitText(f, &res.Wait),

		WeekTitle:     l.secWeekday,
		OutboundTitle: l.secOutbound,

		Part2: l.part2, Part2Note: l.part2Note,
		LanguagesTitle:   l.secLanguages,
		OperatorsTitle:   l.secOperators,
		DefinitionsTitle: l.definitions[0],
		Definitions:      l.definitions[1:],
	}
	if !res.LoginHoursKnown {
		v.LoginNote = l.loginNote
	}
	if sk := res.Skipped; sk.Total() > 0 || sk.AnsweredWithoutTimes > 0 {
		v.Skipped = fmt.Sprintf(l.skipped, f.int(sk.OutsidePeriod), f.int(sk.OtherService),
			f.int(sk.UnknownDirection+sk.UnknownOutcome), f.int(sk.AnsweredWithoutTimes))
	}

	v.Inbound = htmlTable{
		Head: []string{fmt.Sprintf(l.colPeriod, v.Period), l.colCount, l.colShareTotal, l.colShareQueued},
		Rows: []htmlRow{
			{Cells: []string{l.queued, f.int(in.Queued), f.pct(in.SharesOfTotal.Queued), ""}},
			{Cells: []string{l.answered, f.int(in.Answered), "", f.pct(in.SharesOfQueued.Answered)}},
			{Cells: []string{l.unanswered, f.int(in.Unanswered), "", f.pct(in.SharesOfQueued.Unanswered)}},
			{Cells: []string{l.voicemail, f.int(in.Voicemail), "", f.pct(in.SharesOfQueued.Voicemail)}},
			{Cells: []string{l.abandoned, f.int(in.Abandoned), "", f.pct(in.SharesOfQueued.Abandoned)}},
			{Cells: []string{l.blacklisted, f.int(in.Blacklisted), f.pct(in.SharesOfTotal.Blacklisted), ""}},
			{Cells: []string{l.welcome, f.int(in.WelcomeHangup), f.pct(in.SharesOfTotal.WelcomeHangup), ""}},
			{Cells: []string{l.total, f.int(in.Total), f.pct(sharesSum(in.Total)), ""}, Total: true},
		},
	}
	v.Pie = pieView(f, in)

	v.Talk = htmlTable{Rows: []htmlRow{
		{Cells: []string{l.talkTotal, f.duration(res.Talk.Total)}},
		{Cells: []string{l.talkAverage + " (1)", talkAverageText(f, &res.Talk)}},
	}}

	v.Week = heatView(f, &res.Weekday)

	o := &res.Outbound
	v.Outbound = htmlTable{Rows: []htmlRow{
		{Cells: []string{l.outAnswered, f.int(o.Answered)}},
		{Cells: []string{l.outBusy, f.int(o.Busy)}},
		{Cells: []string{l.outNoAnswer, f.int(o.NoAnswer)}},
		{Cells: []string{l.outFailed, f.int(o.Failed)}},
		{Cells: []string{l.outTalk, f.duration(o.Talk)}},
		{Cells: []string{l.outTotal, f.int(o.Total)}, Total: true},
		{Cells: []string{l.outShare, optPct(f, o.AnsweredShare, o.ShareKnown)}},
	}}

	v.Languages.Head = []string{l.colLanguage, l.colOffered, l.colAnswered, l.colAbandoned, l.colVoicemail,
		l.colUnanswered, l.colMeanWait, l.colP90Wait, l.colWithin20, l.colWithin60}
	for i := range res.Languages {
		q := &res.Languages[i]
		v.Languages.Rows = append(v.Languages.Rows, htmlRow{Cells: languageRow(f, f.languageName(q.Language), q)})
	}
	v.Languages.Rows = append(v.Languages.Rows, htmlRow{Cells: languageRow(f, l.allLanguages, &res.AllLanguages), Total: true})

	v.Operators.Head = []string{l.colOperator, l.colOpAnswered, l.colOpTalk, l.colOpAverage, l.colOpOut, l.colOpOutTalk, l.colOpLogin}
	for i := range res.Operators {
		v.Operators.Rows = append(v.Operators.Rows, htmlRow{Cells: operatorRow(f, res, &res.Operators[i])})
	}
	return v
}

// pieView draws the queued-call breakdown clockwise from 12 o'clock, in
// the table's order. Angles come from the exact counts; the printed
// shares are the rounded ones of the table, so chart and table agree.
func pieView(f *printer, in *Inbound) htmlPie {
	const size, r = 240, 110
	c := size / 2
	p := htmlPie{Size: size, Caption: f.l.pieTitle}
	angle := 0.0 // radians from 12 o'clock, clockwise
	for i, s := range queuedSlices(in, f.l) {
		hs := htmlSlice{
			Class: "s" + strconv.Itoa(i), Label: s.label, Share: f.pct(s.share), Count: f.int(s.count),
			CX: c, CY: c, R: r,
		}
		p.Legend = append(p.Legend, hs)
		if s.count == 0 || in.Queued == 0 {
			continue
		}
		frac := float64(s.count) / float64(in.Queued)
		if s.count == in.Queued {
			p.Circle = &hs
			continue
		}
		x0, y0 := polar(c, r, angle)
		x1, y1 := polar(c, r, angle+frac*2*math.Pi)
		large := 0
		if frac > 0.5 {
			large = 1
		}
		hs.Path = fmt.Sprintf("M%d %d L%s %s A%d %d 0 %d 1 %s %s Z", c, c, num(x0), num(y0), r, r, large, num(x1), num(y1))
		if frac >= 0.10 { // room for the figure on the slice itself
			tx, ty := polar(c, r*0.62, angle+frac*math.Pi)
			hs.TX, hs.TY, hs.OnSlice = num(tx), num(ty), true
		}
		angle += frac * 2 * math.Pi
		p.Slices = append(p.Slices, hs)
	}
	return p
}

func polar(c int, r, a float64) (x, y float64) {
	return float64(c) + r*math.Sin(a), float64(c) - r*math.Cos(a)
}

// num prints an SVG coordinate with two decimals, C locale.
func num(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

// heatView shades each cell by its count relative to the busiest cell,
// in heatLevels steps (level 0 is reserved for empty cells).
func heatView(f *printer, m *WeekdayHour) htmlHeat {
	l := f.l
	h := htmlHeat{Corner: l.hourDay, Days: l.days[:], Tot: l.tot, Grand: f.int(m.Total())}
	top := m.Max()
	for hour := range 24 {
		row := htmlHeatRow{Hour: hourLabel(hour), Total: f.int(m.HourTotal(hour))}
		for d := range 7 {
			n := m[d][hour]
			row.Cells = append(row.Cells, htmlHeatCell{
				Value: f.int(n), Level: heatLevel(n, top),
				Title: l.days[d] + " " + hourLabel(hour) + ": " + f.int(n),
			})
		}
		h.Rows = append(h.Rows, row)
	}
	for d := range 7 {
		h.Totals = append(h.Totals, f.int(m.DayTotal(d)))
	}
	for lv := 1; lv <= heatLevels; lv++ {
		// the smallest count that reaches level lv
		from := (int64(lv-1)*top)/heatLevels + 1
		h.Scale = append(h.Scale, htmlHeatLevel{Level: lv, From: "≥ " + f.int(from)})
	}
	return h
}

// heatLevel maps n in [0, top] to 0 (n = 0) or 1…heatLevels.
func heatLevel(n, top int64) int {
	if n <= 0 || top <= 0 {
		return 0
	}
	return int((n*heatLevels + top - 1) / top) // ceil(n/top × levels)
}
