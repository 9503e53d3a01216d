package liveview

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/helpline-it/helpline/queue"
)

// frameUI is the interactive part of a frame: nothing of it is data.
type frameUI struct {
	// interactive draws the selection marker, the message and help lines.
	interactive bool
	selected    string
	// message is a confirmation prompt or the result of an action.
	message      string
	messageStyle *lipgloss.Style
	help         string
}

// minWidth is the narrowest frame drawn: below it lines are cut.
const minWidth = 40

// render draws b in width columns. height 0 means as tall as needed (the
// --once output); otherwise the frame has at most height lines, and rows
// are dropped (never lines cut in the middle) to fit.
func render(b *Board, st *Styles, width, height int, ui frameUI) string {
	width = max(width, minWidth)
	var top, bottom []string

	top = append(top, titleLine(b, st, width))
	if banner := bannerLine(b, st); banner != "" {
		top = append(top, banner)
	}
	top = append(top, waitingHeader(b, st))

	opsHead := []string{"", st.Header.Render(operatorColumns(width))}
	bottom = append(bottom, todayLines(b, st)...)
	if ui.interactive {
		msg := clean(ui.message)
		if msg != "" && ui.messageStyle != nil {
			msg = ui.messageStyle.Render(msg)
		}
		bottom = append(bottom, msg, st.Dim.Render(ui.help))
	}

	langs, idle := waitingBlocks(b)
	idleLine := ""
	if len(idle) > 0 {
		idleLine = st.Dim.Render("  no calls, nobody logged in: " + strings.Join(idle, " "))
	}
	fixed := len(top) + len(opsHead) + len(bottom) + len(langs)
	if idleLine != "" {
		fixed++
	}
	if b.waitingCount() == 0 && len(langs) == 0 {
		fixed++ // the "nobody waiting" line
	}
	callRows, opRows := b.waitingCount(), len(b.Operators)
	if opRows == 0 {
		opRows = 1 // "nobody logged in"
	}
	callBudget, opBudget := callRows, opRows
	if height > 0 {
		callBudget, opBudget = share(max(0, height-fixed), callRows, opRows)
	}

	var out []string
	out = append(out, top...)
	out = append(out, waitingLines(b, st, langs, callBudget, width)...)
	if idleLine != "" {
		out = append(out, idleLine)
	}
	first, shown := operatorWindow(b, ui.selected, opBudget)
	opsHead[0] = operatorsHeader(b, st, first, shown)
	out = append(out, opsHead...)
	out = append(out, operatorLines(b, st, ui, first, shown, opBudget, width)...)
	out = append(out, bottom...)
	for i, l := range out {
		if ansi.StringWidth(l) > width {
			out[i] = ansi.Truncate(l, width, "…")
		}
	}
	if height > 0 && len(out) > height {
		out = out[:height]
	}
	return strings.Join(out, "\n")
}

// share splits budget rows between waiting calls and operators: each gets
// what it needs if both fit; otherwise operators get at least half (the
// supervisor acts on them) unless calls need less, and calls the rest.
func share(budget, calls, ops int) (callRows, opRows int) {
	if calls+ops <= budget {
		return calls, ops
	}
	opRows = min(ops, max(budget/2, budget-calls))
	return max(0, budget-opRows), opRows
}

// titleLine is "helpline queue · 1522 … Tue 03 Jun 21:14:05 LIVE".
func titleLine(b *Board, st *Styles, width int) string {
	left := st.Title.Render("helpline queue · " + b.Service)
	var badge string
	switch {
	case b.Status.RedisDown:
		badge = st.Alert.Render(" REDIS DOWN ")
	case b.Status.Err != "":
		badge = st.Alert.Render(" ERROR ")
	case b.Status.DataAt.IsZero():
		badge = st.Warn.Render(" CONNECTING ")
	case b.Status.Stale:
		badge = st.Warn.Render(" STALE ")
	case b.Status.Single:
		badge = st.Live.Render(" OK ")
	case !b.Status.Events:
		badge = st.Warn.Render(" POLLING ")
	default:
		badge = st.Live.Render(" LIVE ")
	}
	right := b.At.Format("Mon 02 Jan 15:04:05") + " " + badge
	gap := width - ansi.StringWidth(left) - ansi.StringWidth(right)
	return left + strings.Repeat(" ", max(1, gap)) + right
}

// bannerLine says what is wrong with the data, or "" when nothing is.
func bannerLine(b *Board, st *Styles) string {
	s := b.Status
	loc := b.At.Location()
	dataOf, age := "no data yet", "no data yet"
	if !s.DataAt.IsZero() {
		dataOf = "showing " + s.DataAt.In(loc).Format("15:04:05") + " (" + fmtDur(s.Age) + " old)"
		age = "data " + fmtDur(s.Age) + " old"
	}
	switch {
	case s.RedisDown:
		return st.Error.Render("! Redis unreachable since "+s.DownSince.In(loc).Format("15:04:05")) +
			st.Dim.Render(" ("+clean(lastClause(s.RedisErr))+")") + st.Error.Render("; "+age)
	case s.Err != "":
		return st.Error.Render("! cannot read the queue; "+dataOf) + st.Dim.Render(" ("+clean(s.Err)+")")
	case s.DataAt.IsZero():
		return st.Dim.Render("connecting to the queue…")
	case s.Stale:
		return st.Error.Render("! no fresh data; " + dataOf + "; retrying")
	}
	return ""
}

func waitingHeader(b *Board, st *Styles) string {
	n := b.waitingCount()
	h := st.Section.Render(fmt.Sprintf("WAITING %d", n))
	if n == 0 {
		h += "  nobody waiting"
	} else {
		h += "  longest " + fmtDur(b.Longest) + " " + b.LongestLang
	}
	switch {
	case b.Alert > 0 && n > 0 && b.Longest >= b.Alert:
		h += " " + st.Alert.Render("! over "+fmtDur(b.Alert))
	case b.Alert > 0:
		h += st.Dim.Render("  (alert at " + fmtDur(b.Alert) + ")")
	}
	if b.Status.Stale || b.Status.RedisDown {
		h += st.Error.Render("  as of " + b.Status.DataAt.In(b.At.Location()).Format("15:04:05"))
	}
	return h
}

// waitingBlocks returns the languages drawn with a block of their own
// (someone waits or someone is staffed) and the codes of the idle ones.
func waitingBlocks(b *Board) (shown []*LanguageRow, idle []string) {
	for i := range b.Languages {
		l := &b.Languages[i]
		if len(l.Waiting) > 0 || l.LoggedIn > 0 {
			shown = append(shown, l)
		} else {
			idle = append(idle, l.Code)
		}
	}
	return shown, idle
}

// callQuota gives each language at most its number of calls, budget in
// all: one each in order first (the oldest caller of every language is
// always visible when the budget allows), then round-robin.
func callQuota(langs []*LanguageRow, budget int) []int {
	q := make([]int, len(langs))
	for budget > 0 {
		given := false
		for i, l := range langs {
			if budget > 0 && q[i] < len(l.Waiting) {
				q[i]++
				budget--
				given = true
			}
		}
		if !given {
			break
		}
	}
	return q
}

func waitingLines(b *Board, st *Styles, langs []*LanguageRow, budget, width int) []string {
	var out []string
	quota := callQuota(langs, budget)
	for i, l := range langs {
		label := l.Code
		if l.Name != l.Code {
			label += " " + l.Name
		}
		head := "  " + pad(label, 16) + " "
		if len(l.Waiting) == 0 {
			head += pad("none waiting", 28)
		} else {
			head += pad(fmt.Sprintf("%d waiting", len(l.Waiting)), 11) + " " + pad("longest "+fmtDur(l.Longest), 16)
		}
		switch {
		case l.LoggedIn == 0:
			head += st.Alert.Render("! nobody logged in")
		case l.Staffed == 0:
			head += st.Alert.Render(fmt.Sprintf("! all %d paused", l.LoggedIn))
		default:
			head += fmt.Sprintf("free %d of %d", l.Free, l.Staffed)
		}
		if l.Alert {
			head = markAlert(head, st)
		}
		out = append(out, head)
		for j := 0; j < quota[i]; j++ {
			c := l.Waiting[j]
			row := "     " + padLeft(strconv.Itoa(c.Position), 3) + "  " + pad(tagOrDash(c.Tag), 9) + padLeft(fmtDur(c.Waited), 7) + "  "
			note := ""
			if c.Alert {
				note = st.Alert.Render("! LONG WAIT") + " "
			}
			if c.RingingOp != "" {
				note += "ringing " + c.RingingOp
			}
			if j == quota[i]-1 && quota[i] < len(l.Waiting) {
				note += st.Dim.Render(fmt.Sprintf(" (+%d more)", len(l.Waiting)-quota[i]))
			}
			out = append(out, row+note)
		}
		if quota[i] == 0 && len(l.Waiting) > 0 {
			out[len(out)-1] += st.Dim.Render(" (calls hidden: enlarge the window)")
		}
	}
	_ = width
	return out
}

// markAlert prefixes a language line with a visible marker.
func markAlert(line string, st *Styles) string {
	return st.Alert.Render("!") + line[1:]
}

func operatorsHeader(b *Board, st *Styles, first, shown int) string {
	c := b.stateCounts()
	h := st.Section.Render(fmt.Sprintf("OPERATORS %d", len(b.Operators)))
	parts := []string{}
	for _, s := range []queue.State{queue.Available, queue.Ringing, queue.Busy, queue.WrapUp, queue.Paused} {
		parts = append(parts, fmt.Sprintf("%s %d", strings.ToLower(stateLabel(s)), c[s]))
	}
	h += "  " + strings.Join(parts, " · ")
	switch {
	case shown == 0 && len(b.Operators) > 0:
		h += st.Dim.Render("  (window too small to list them)")
	case shown < len(b.Operators):
		h += st.Dim.Render(fmt.Sprintf("  (%d–%d shown)", first+1, first+shown))
	}
	return h
}

// operatorWindow is the first row and the number of rows shown: budget
// rows that keep the selected operator visible.
func operatorWindow(b *Board, selected string, budget int) (first, shown int) {
	n := len(b.Operators)
	if budget >= n {
		return 0, n
	}
	sel := 0
	for i, o := range b.Operators {
		if o.ID == selected {
			sel = i
		}
	}
	return min(max(0, sel-budget/2), n-budget), budget
}

// Operator table columns.
const (
	colOperator = 22
	colState    = 8
	colFor      = 7
	colSkills   = 12
)

func operatorColumns(width int) string {
	return "  " + pad("OPERATOR", colOperator) + " " + pad("STATE", colState) + " " + padLeft("FOR", colFor) + "  " + pad("SKILLS", colSkills) + " NOTE"
}

func operatorLines(b *Board, st *Styles, ui frameUI, first, shown, budget, width int) []string {
	if len(b.Operators) == 0 {
		if budget == 0 {
			return nil
		}
		return []string{st.Dim.Render("  nobody logged in")}
	}
	var out []string
	for i := first; i < first+shown; i++ {
		o := b.Operators[i]
		mark := "  "
		selected := ui.interactive && o.ID == ui.selected
		if selected {
			mark = "> "
		}
		who := o.ID
		if o.Name != o.ID {
			who += " " + o.Name
		}
		state := pad(stateLabel(o.State), colState)
		note := ""
		switch o.State {
		case queue.Paused:
			note = o.PauseReason
		case queue.Ringing:
			note = "call " + tagOrDash(o.CallTag)
		case queue.Busy:
			note = "call " + tagOrDash(o.CallTag)
		case queue.WrapUp:
			note = "ends in " + fmtDur(o.WrapLeft)
		}
		if selected {
			line := mark + pad(who, colOperator) + " " + state + " " + padLeft(fmtDur(o.InState), colFor) + "  " + pad(strings.Join(o.Skills, " "), colSkills) + " " + note
			out = append(out, st.Selected.Render(pad(ansi.Truncate(line, width, "…"), width)))
			continue
		}
		if s, ok := st.State[o.State]; ok {
			state = s.Render(state)
		}
		out = append(out, mark+pad(who, colOperator)+" "+state+" "+padLeft(fmtDur(o.InState), colFor)+"  "+pad(strings.Join(o.Skills, " "), colSkills)+" "+note)
	}
	return out
}

func todayLines(b *Board, st *Styles) []string {
	t := b.Today
	head := st.Section.Render("TODAY")
	if !t.Known {
		return []string{head + "  " + st.Dim.Render(clean(t.Note)), ""}
	}
	l1 := head + fmt.Sprintf("  offered %d  answered %d  abandoned %d  voicemail %d  unanswered %d",
		t.Offered, t.Answered, t.Abandoned, t.Voicemail, t.Unanswered)
	pct := func(v float64) string {
		if !t.ShareOK {
			return "n/a"
		}
		return strconv.FormatFloat(v, 'f', 1, 64) + "%"
	}
	avg := "n/a"
	if t.AvgOK {
		avg = fmtDur(t.AvgWait.Round(time.Second))
	}
	l2 := fmt.Sprintf("  within 20s %s  within 60s %s  average wait %s", pct(t.WithinShort), pct(t.WithinLong), avg)
	if t.Pending > 0 {
		l2 += fmt.Sprintf("  %d ending", t.Pending)
	}
	l2 += st.Dim.Render("  since " + t.Since.Format("15:04"))
	if t.Note != "" {
		l2 += " " + st.Error.Render("! "+clean(t.Note))
	}
	return []string{l1, l2}
}

// lastClause is the end of an error chain ("dial tcp …: connect:
// connection refused" → "connection refused"): what fits on a banner.
func lastClause(msg string) string {
	if i := strings.LastIndex(msg, ": "); i >= 0 && i+2 < len(msg) {
		return msg[i+2:]
	}
	return msg
}

// fmtDur writes a duration for a glance: 7s, 2m41s, 1h02m (rounded down
// to the second; negative as 0s).
func fmtDur(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int64(d / time.Second)
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	default:
		return fmt.Sprintf("%dh%02dm", s/3600, (s%3600)/60)
	}
}

func tagOrDash(t string) string {
	if t == "" {
		return "-"
	}
	return t
}

// pad cuts s to w cells (with "…") or pads it with spaces to w.
func pad(s string, w int) string {
	n := ansi.StringWidth(s)
	if n > w {
		return ansi.Truncate(s, w, "…")
	}
	return s + strings.Repeat(" ", w-n)
}

// padLeft right-aligns s in w cells.
func padLeft(s string, w int) string {
	n := ansi.StringWidth(s)
	if n > w {
		return ansi.Truncate(s, w, "…")
	}
	return strings.Repeat(" ", w-n) + s
}
