package liveview

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/jonboulle/clockwork"
	"github.com/muesli/termenv"
	"github.com/rs/zerolog"

	"github.com/helpline-it/helpline/queue"
)

// Deps are the view's connections to the switchboard.
type Deps struct {
	// Queue is read with Snapshot and acted on with Pause, Unpause and
	// Logout (required).
	Queue queue.Queue
	// Watcher streams the queue's events (optional: without it the view
	// only refreshes every Options.Refresh).
	Watcher queue.Watcher
	// Records are the call records for today's counters (optional:
	// without them the counters say so).
	Records Records
	// Audit records supervisor actions (optional: without it, or without
	// Options.Supervisor, the view is read-only).
	Audit Auditor
}

// Options tune the view. Service is required; zero values of the others
// take the defaults documented on each.
type Options struct {
	// Service is the helpline service shown (config service).
	Service string
	// Supervisor is who acts from this view; it is written on every audit
	// entry and in the pause reason.
	Supervisor string
	// Location is the service time zone: today starts at its midnight and
	// clocks are shown in it (default time.Local).
	Location *time.Location
	// Languages in menu order with display names (config languages).
	Languages []Language
	// OperatorNames maps operator IDs to display names (config operators).
	OperatorNames map[string]string
	// Alert highlights callers waiting at least this long (config
	// queue.longest_wait_alert; default 2m).
	Alert time.Duration
	// Refresh is the safety refresh of the snapshot between pushed events
	// (default 5s).
	Refresh time.Duration
	// StaleAfter marks the data stale when the last good snapshot is
	// older (default 3 × Refresh).
	StaleAfter time.Duration
	// RecordsEvery is how often today's call records are re-read
	// (default 30s).
	RecordsEvery time.Duration
	// Timeout bounds each read of the queue and each action (default 4s).
	Timeout time.Duration
	// Clock drives ticks and stamps (default the real clock).
	Clock clockwork.Clock
	// Renderer decides colours; default a renderer on io.Discard with the
	// Ascii (monochrome) profile.
	Renderer *lipgloss.Renderer
	// Lines, when set, receives one plain summary line whenever the
	// picture changes: the mode for a stdout that is not a terminal
	// (the program then runs without its renderer).
	Lines io.Writer
	// Logger receives errors of the view itself.
	Logger zerolog.Logger
}

// Default option values.
const (
	DefaultAlert        = 2 * time.Minute
	DefaultRefresh      = 5 * time.Second
	DefaultRecordsEvery = 30 * time.Second
	DefaultTimeout      = 4 * time.Second
)

func (o *Options) fill() {
	if o.Location == nil {
		o.Location = time.Local
	}
	o.Alert = cmp.Or(o.Alert, DefaultAlert)
	o.Refresh = cmp.Or(o.Refresh, DefaultRefresh)
	o.StaleAfter = cmp.Or(o.StaleAfter, 3*o.Refresh)
	o.RecordsEvery = cmp.Or(o.RecordsEvery, DefaultRecordsEvery)
	o.Timeout = cmp.Or(o.Timeout, DefaultTimeout)
	if o.Clock == nil {
		o.Clock = clockwork.NewRealClock()
	}
	if o.Renderer == nil {
		o.Renderer = MonochromeRenderer()
	}
}

// MonochromeRenderer is a lipgloss renderer that emits no colour or
// attribute: the --once output, NO_COLOR, and golden tests.
func MonochromeRenderer() *lipgloss.Renderer {
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.Ascii)
	return r
}

// Messages. Each blocking source (ticks, events, reads, actions) is a
// tea.Cmd returning one of these; Update re-arms the source.
type (
	tickMsg     struct{ at time.Time }
	snapshotMsg struct {
		snap queue.Snapshot
		err  error
		at   time.Time
	}
	eventMsg        struct{ ev queue.Event }
	eventsClosedMsg struct{}
	watchMsg        struct {
		ch  <-chan queue.Event
		err error
	}
	recordsMsg struct {
		start time.Time
		rc    recordCounts
		err   error
		at    time.Time
	}
	actionMsg struct {
		a        action
		err      error
		refused  bool
		auditErr error
	}
)

// action is a supervisor action waiting for confirmation or running.
type action struct {
	kind   ActionKind
	op     string
	who    string
	from   queue.State
	reason string
}

// Model is the bubbletea model of the live view. Use New; it is driven
// by a tea.Program (or, in tests, by calling Update and View directly).
type Model struct {
	ctx   context.Context
	d     Deps
	o     Options
	clock clockwork.Clock
	st    *Styles
	keys  keyMap

	now           time.Time
	width, height int

	snap      *queue.Snapshot
	snapErr   error
	downSince time.Time
	fetching  bool
	dirty     bool
	lastFetch time.Time

	watching bool
	events   <-chan queue.Event

	// enq and tags remember calls seen (events, snapshots): the queue
	// entry for the wait of an answered call, the tag of a busy
	// operator's call.
	enq  map[string]time.Time
	tags map[string]string

	day            *dayCounters
	loadingRecords bool
	lastRecords    time.Time

	selected string
	confirm  *action
	acting   bool
	flash    string
	flashBad bool
	flashAt  time.Time

	lastLine string
}

// New returns the view's model. ctx bounds every command it starts:
// cancel it to stop the subscription and pending reads.
func New(ctx context.Context, d Deps, o Options) (*Model, error) {
	if d.Queue == nil {
		return nil, errors.New("liveview: no queue")
	}
	if o.Service == "" {
		return nil, errors.New("liveview: no service")
	}
	o.fill()
	m := &Model{
		ctx: ctx, d: d, o: o, clock: o.Clock,
		st:     NewStyles(o.Renderer),
		keys:   newKeyMap(),
		width:  80,
		height: 24,
		enq:    map[string]time.Time{},
		tags:   map[string]string{},
	}
	m.now = m.clock.Now().In(o.Location)
	m.day = newDayCounters(dayBounds(m.now, o.Location))
	if !m.canAct() {
		for _, b := range []*key.Binding{&m.keys.Pause, &m.keys.Unpause, &m.keys.Logout} {
			b.SetEnabled(false)
		}
	}
	return m, nil
}

func (m *Model) canAct() bool { return m.d.Audit != nil && m.o.Supervisor != "" }

// Init starts the first read of the queue and of the records, the event
// subscription and the clock.
func (m *Model) Init() tea.Cmd {
	cmds := []tea.Cmd{m.startFetch(), m.tick()}
	if m.d.Watcher != nil {
		m.watching = true
		cmds = append(cmds, m.watch())
	}
	if m.d.Records != nil {
		cmds = append(cmds, m.startRecords())
	}
	return tea.Batch(cmds...)
}

// Update implements tea.Model.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		return m, nil
	case tea.KeyMsg:
		return m, m.key(msg)
	case tickMsg:
		return m, m.onTick(msg.at)
	case snapshotMsg:
		return m, m.onSnapshot(msg)
	case watchMsg:
		if msg.err != nil {
			m.watching = false
			m.o.Logger.Debug().Err(msg.err).Msg("liveview: event subscription failed; refreshing periodically")
			return m, nil
		}
		m.events = msg.ch
		// Events published before the subscription are not seen: read
		// the snapshot again.
		return m, tea.Batch(m.waitEvent(), m.requestFetch())
	case eventMsg:
		return m, m.onEvent(msg.ev)
	case eventsClosedMsg:
		m.watching, m.events = false, nil
		return m, nil
	case recordsMsg:
		m.loadingRecords = false
		if !msg.start.Equal(m.day.start) {
			return m, nil // a read of the previous day
		}
		if msg.err != nil {
			m.day.err = msg.err
			m.o.Logger.Warn().Err(msg.err).Msg("liveview: reading today's call records")
		} else {
			m.day.setRecords(msg.rc, msg.at)
		}
		m.writeLine()
		return m, nil
	case actionMsg:
		return m, m.onAction(msg)
	}
	return m, nil
}

func (m *Model) onTick(at time.Time) tea.Cmd {
	m.now = at.In(m.o.Location)
	cmds := []tea.Cmd{m.tick()}
	if start, end := dayBounds(m.now, m.o.Location); !start.Equal(m.day.start) {
		m.day = newDayCounters(start, end)
		m.loadingRecords = false
		if m.d.Records != nil {
			cmds = append(cmds, m.startRecords())
		}
	}
	if !m.fetching && m.now.Sub(m.lastFetch) >= m.o.Refresh {
		cmds = append(cmds, m.startFetch())
	}
	if m.d.Records != nil && !m.loadingRecords && m.now.Sub(m.lastRecords) >= m.o.RecordsEvery {
		cmds = append(cmds, m.startRecords())
	}
	if m.flash != "" && m.now.Sub(m.flashAt) >= flashFor {
		m.flash = ""
	}
	m.writeLine()
	return tea.Batch(cmds...)
}

// flashFor is how long the result of an action or a refusal stays on the
// message line.
const flashFor = 30 * time.Second

// say puts msg on the message line.
func (m *Model) say(msg string, bad bool) {
	m.flash, m.flashBad, m.flashAt = msg, bad, m.now
}

func (m *Model) onSnapshot(msg snapshotMsg) tea.Cmd {
	m.fetching = false
	var cmds []tea.Cmd
	if msg.err != nil {
		m.snapErr = msg.err
		if queue.IsUnavailable(msg.err) && m.downSince.IsZero() {
			m.downSince = msg.at
		}
	} else {
		s := msg.snap
		m.snap, m.snapErr, m.downSince = &s, nil, time.Time{}
		m.remember(&s)
		if m.d.Watcher != nil && !m.watching {
			m.watching = true
			cmds = append(cmds, m.watch())
		}
	}
	if m.dirty {
		m.dirty = false
		cmds = append(cmds, m.startFetch())
	}
	m.writeLine()
	return tea.Batch(cmds...)
}

// remember keeps the entry times and tags of the calls in s, and forgets
// calls no longer referenced by the queue or an operator.
func (m *Model) remember(s *queue.Snapshot) {
	keep := map[string]bool{}
	for _, calls := range s.Waiting {
		for _, c := range calls {
			m.enq[c.ID], m.tags[c.ID] = c.Enqueued, c.Tag
			keep[c.ID] = true
		}
	}
	for _, o := range s.Operators {
		if o.CallID != "" {
			keep[o.CallID] = true
		}
	}
	for id := range m.tags {
		if !keep[id] {
			delete(m.tags, id)
		}
	}
	for id := range m.enq {
		if !keep[id] {
			delete(m.enq, id)
		}
	}
}

func (m *Model) onEvent(ev queue.Event) tea.Cmd {
	switch ev.Kind {
	case queue.EventEnqueued:
		m.enq[ev.CallID] = ev.At
	case queue.EventAnswered, queue.EventLeft:
		m.day.observe(ev, m.enq[ev.CallID])
	}
	return tea.Batch(m.waitEvent(), m.requestFetch())
}

// requestFetch reads the snapshot now, or right after the read in flight:
// a burst of events costs at most two reads.
func (m *Model) requestFetch() tea.Cmd {
	if m.fetching {
		m.dirty = true
		return nil
	}
	return m.startFetch()
}

func (m *Model) startFetch() tea.Cmd {
	m.fetching = true
	m.lastFetch = m.now
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(m.ctx, m.o.Timeout)
		defer cancel()
		at := m.clock.Now()
		s, err := readSnapshot(ctx, m.d.Queue, at)
		if m.ctx.Err() != nil {
			return nil
		}
		return snapshotMsg{snap: s, err: err, at: at}
	}
}

func (m *Model) startRecords() tea.Cmd {
	m.loadingRecords = true
	m.lastRecords = m.now
	start, end := m.day.start, m.day.end
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(m.ctx, 4*m.o.Timeout)
		defer cancel()
		rc, err := loadRecords(ctx, m.d.Records, m.o.Service, start, end)
		if m.ctx.Err() != nil {
			return nil
		}
		return recordsMsg{start: start, rc: rc, err: err, at: m.clock.Now()}
	}
}

func (m *Model) watch() tea.Cmd {
	return func() tea.Msg {
		ch, err := m.d.Watcher.Watch(m.ctx)
		if m.ctx.Err() != nil {
			return nil
		}
		return watchMsg{ch: ch, err: err}
	}
}

func (m *Model) waitEvent() tea.Cmd {
	ch := m.events
	if ch == nil {
		return nil
	}
	return func() tea.Msg {
		select {
		case ev, ok := <-ch:
			if !ok {
				return eventsClosedMsg{}
			}
			return eventMsg{ev}
		case <-m.ctx.Done():
			return nil
		}
	}
}

// tick fires on the next whole second: the clock and every "waited"
// column move together.
func (m *Model) tick() tea.Cmd {
	now := m.now
	d := time.Second - time.Duration(now.Nanosecond())
	return func() tea.Msg {
		select {
		case <-m.clock.After(d):
			return tickMsg{m.clock.Now()}
		case <-m.ctx.Done():
			return nil
		}
	}
}

// readOnlyInstant is the time the view passes to queue.Snapshot. The
// store "brings the queue up to" that time before answering (promotes
// wrap-ups that ended, returns expired offers): given an instant before
// anything could be due, it changes nothing. The view must not change
// routing by looking at it — and its clock, on a supervisor's machine,
// may run ahead of the switchboard's. buildBoard shows an ended wrap-up
// as free itself; an expired offer stays "ringing" until the switchboard
// reaps it, which is what the store holds.
var readOnlyInstant = time.UnixMilli(0)

// readSnapshot reads the queue without changing it, stamped with at.
func readSnapshot(ctx context.Context, q queue.Queue, at time.Time) (queue.Snapshot, error) {
	s, err := q.Snapshot(ctx, readOnlyInstant)
	s.At = at
	return s, err
}

// Board returns the picture as it stands.
func (m *Model) Board() Board {
	st := Status{Events: m.events != nil, DownSince: m.downSince}
	if m.snapErr != nil {
		if queue.IsUnavailable(m.snapErr) {
			st.RedisDown, st.RedisErr = true, rootCause(m.snapErr)
		} else {
			st.Err = m.snapErr.Error()
		}
	}
	return buildBoard(boardInput{
		service:   m.o.Service,
		now:       m.now,
		alert:     m.o.Alert,
		languages: m.o.Languages,
		names:     m.o.OperatorNames,
		snap:      m.snap,
		status:    st,
		staleness: m.o.StaleAfter,
		today:     m.day.today(m.d.Records != nil),
		tags:      m.tags,
	})
}

// rootCause is the innermost error's message: "dial tcp …: connection
// refused" says more on a one-line banner than the whole chain.
func rootCause(err error) string {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			if j, ok := err.(interface{ Unwrap() []error }); ok {
				errs := j.Unwrap()
				if len(errs) > 0 {
					err = errs[len(errs)-1]
					continue
				}
			}
			return err.Error()
		}
		err = next
	}
}

// View implements tea.Model.
func (m *Model) View() string {
	b := m.Board()
	ui := frameUI{interactive: true, selected: m.selectedID(&b), help: m.helpLine()}
	switch {
	case m.confirm != nil:
		ui.message = m.confirmPrompt(*m.confirm) + " [y/n]"
		ui.messageStyle = &m.st.Confirm
	case m.acting:
		ui.message = "working…"
	case m.flash != "":
		ui.message = m.flash
		if m.flashBad {
			ui.messageStyle = &m.st.Error
		}
	}
	return render(&b, m.st, m.width, m.height, ui)
}

// selectedID is the selected operator, or the first one when the
// selection left (logged out).
func (m *Model) selectedID(b *Board) string {
	if len(b.Operators) == 0 {
		return ""
	}
	if slices.ContainsFunc(b.Operators, func(o OperatorRow) bool { return o.ID == m.selected }) {
		return m.selected
	}
	// The nearest following operator by ID, else the last one.
	for _, o := range b.Operators {
		if o.ID > m.selected {
			return o.ID
		}
	}
	return b.Operators[len(b.Operators)-1].ID
}

func (m *Model) helpLine() string {
	var parts []string
	for _, b := range m.keys.short() {
		if b.Enabled() {
			h := b.Help()
			parts = append(parts, h.Key+" "+h.Desc)
		}
	}
	s := strings.Join(parts, " · ")
	if !m.canAct() {
		s += " · read-only (no supervisor name or audit file)"
	}
	return s
}

// writeLine prints the summary line in line mode when it changed.
func (m *Model) writeLine() {
	if m.o.Lines == nil {
		return
	}
	b := m.Board()
	l := summaryLine(&b)
	if l == m.lastLine {
		return
	}
	m.lastLine = l
	if _, err := fmt.Fprintln(m.o.Lines, b.At.Format("15:04:05")+" "+l); err != nil {
		m.o.Logger.Warn().Err(err).Msg("liveview: writing summary line")
	}
}

// summaryLine is the one-line picture for line mode, without the clock
// (so that only changes are printed).
func summaryLine(b *Board) string {
	var sb strings.Builder
	switch {
	case b.Status.RedisDown:
		sb.WriteString("REDIS DOWN (" + b.Status.RedisErr + ")")
	case b.Status.Err != "":
		sb.WriteString("ERROR (" + b.Status.Err + ")")
	case b.Status.DataAt.IsZero():
		sb.WriteString("CONNECTING")
	case b.Status.Stale:
		sb.WriteString("STALE")
	default:
		sb.WriteString("OK")
	}
	fmt.Fprintf(&sb, " | waiting %d", b.waitingCount())
	var per []string
	for _, l := range b.Languages {
		if len(l.Waiting) > 0 {
			s := fmt.Sprintf("%s %d oldest %s", l.Code, len(l.Waiting), fmtDur(l.Longest.Truncate(10*time.Second)))
			if l.Alert {
				s += " !"
			}
			per = append(per, s)
		}
	}
	if len(per) > 0 {
		sb.WriteString(" (" + strings.Join(per, ", ") + ")")
	}
	c := b.stateCounts()
	fmt.Fprintf(&sb, " | free %d ringing %d busy %d wrap-up %d paused %d", c[queue.Available], c[queue.Ringing], c[queue.Busy], c[queue.WrapUp], c[queue.Paused])
	if t := b.Today; t.Known {
		fmt.Fprintf(&sb, " | today offered %d answered %d", t.Offered, t.Answered)
	}
	return sb.String()
}
