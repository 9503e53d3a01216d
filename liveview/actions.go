package liveview

import (
	"context"
	"errors"
	"fmt"

	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/helpline-it/helpline/queue"
)

// keyMap is every key the view answers to.
type keyMap struct {
	Up, Down, Pause, Unpause, Logout, Refresh, Quit, Yes key.Binding
}

func newKeyMap() keyMap {
	return keyMap{
		Up:      key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "")),
		Down:    key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "select")),
		Pause:   key.NewBinding(key.WithKeys("p"), key.WithHelp("p", "pause")),
		Unpause: key.NewBinding(key.WithKeys("u"), key.WithHelp("u", "unpause")),
		Logout:  key.NewBinding(key.WithKeys("o"), key.WithHelp("o", "log out")),
		Refresh: key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "refresh")),
		Quit:    key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
		Yes:     key.NewBinding(key.WithKeys("y", "Y")),
	}
}

// short lists the bindings of the help line, in order.
func (k keyMap) short() []key.Binding {
	up := k.Up
	up.SetHelp("↑↓", "select")
	return []key.Binding{up, k.Pause, k.Unpause, k.Logout, k.Refresh, k.Quit}
}

// PauseReasonPrefix starts the pause reason of an operator paused from
// the live view; the supervisor's name follows.
const PauseReasonPrefix = "supervisor:"

func (m *Model) key(msg tea.KeyMsg) tea.Cmd {
	if msg.String() == "ctrl+c" {
		return tea.Quit
	}
	if m.confirm != nil {
		a := *m.confirm
		m.confirm = nil
		if key.Matches(msg, m.keys.Yes) {
			m.acting = true
			m.flash = ""
			return m.act(a)
		}
		m.say("cancelled: "+string(a.kind)+" "+a.op, false)
		return nil
	}
	b := m.Board()
	sel := m.selectedID(&b)
	switch {
	case key.Matches(msg, m.keys.Quit):
		return tea.Quit
	case key.Matches(msg, m.keys.Up), key.Matches(msg, m.keys.Down):
		m.selected = moveSelection(b.Operators, sel, key.Matches(msg, m.keys.Down))
	case key.Matches(msg, m.keys.Refresh):
		m.flash = ""
		return m.requestFetch()
	case key.Matches(msg, m.keys.Pause), key.Matches(msg, m.keys.Unpause), key.Matches(msg, m.keys.Logout):
		if m.acting {
			m.say("an action is still running", true)
			return nil
		}
		kind := ActionPause
		switch {
		case key.Matches(msg, m.keys.Unpause):
			kind = ActionUnpause
		case key.Matches(msg, m.keys.Logout):
			kind = ActionLogout
		}
		m.prepare(kind, &b, sel)
	}
	return nil
}

// moveSelection returns the operator above or below sel.
func moveSelection(ops []OperatorRow, sel string, down bool) string {
	if len(ops) == 0 {
		return sel
	}
	i := 0
	for j, o := range ops {
		if o.ID == sel {
			i = j
		}
	}
	if down {
		i = min(i+1, len(ops)-1)
	} else {
		i = max(i-1, 0)
	}
	return ops[i].ID
}

// prepare checks that the action makes sense for the selected operator
// (the queue would refuse it otherwise) and asks for confirmation.
func (m *Model) prepare(kind ActionKind, b *Board, sel string) {
	var op *OperatorRow
	for i := range b.Operators {
		if b.Operators[i].ID == sel {
			op = &b.Operators[i]
		}
	}
	if op == nil {
		m.say("no operator selected", true)
		return
	}
	m.selected = op.ID
	if b.Status.RedisDown {
		m.say("Redis is unreachable: actions are not possible now", true)
		return
	}
	a := action{kind: kind, op: op.ID, who: op.Name, from: op.State}
	switch kind {
	case ActionPause:
		if op.State == queue.Busy {
			m.say(op.ID+" is on a call: only free, ringing or wrap-up operators can be paused", true)
			return
		}
		a.reason = PauseReasonPrefix + m.o.Supervisor
	case ActionUnpause:
		if op.State != queue.Paused {
			m.say(op.ID+" is not paused", true)
			return
		}
	}
	m.flash = ""
	m.confirm = &a
}

// confirmPrompt is the question asked before a; it fits 80 columns
// with the "[y/n]" the view appends.
func (m *Model) confirmPrompt(a action) string {
	who := a.op
	if a.who != "" && a.who != a.op {
		who += " (" + pad(a.who, min(ansi.StringWidth(a.who), 18)) + ")"
	}
	verb := map[ActionKind]string{ActionPause: "Pause", ActionUnpause: "Unpause", ActionLogout: "Log out"}[a.kind]
	s := verb + " " + who
	if a.kind != ActionUnpause {
		s += ", " + stateLabel(a.from) + " now"
	}
	s += "?"
	switch {
	case a.from == queue.Ringing:
		s += " Their call returns to the queue."
	case a.kind == ActionLogout && a.from == queue.Busy:
		s += " They are ON A CALL."
	}
	return s
}

// act runs a confirmed action: audit "requested" (or refuse), the queue
// method, audit the outcome.
func (m *Model) act(a action) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(m.ctx, m.o.Timeout)
		defer cancel()
		e := AuditEntry{At: m.clock.Now(), Supervisor: m.o.Supervisor, Action: a.kind, Operator: a.op,
			Reason: a.reason, From: string(a.from), Phase: PhaseRequested}
		if err := m.d.Audit.Record(ctx, e); err != nil {
			return actionMsg{a: a, err: err, refused: true}
		}
		now := m.clock.Now()
		var err error
		switch a.kind {
		case ActionPause:
			err = m.d.Queue.Pause(ctx, a.op, a.reason, now)
		case ActionUnpause:
			err = m.d.Queue.Unpause(ctx, a.op, now)
		case ActionLogout:
			err = m.d.Queue.Logout(ctx, a.op, now)
		}
		e.At, e.Phase = m.clock.Now(), PhaseDone
		if err != nil {
			e.Phase, e.Error = PhaseFailed, err.Error()
		}
		return actionMsg{a: a, err: err, auditErr: m.d.Audit.Record(ctx, e)}
	}
}

func (m *Model) onAction(msg actionMsg) tea.Cmd {
	m.acting = false
	a := msg.a
	switch {
	case msg.refused:
		m.say(fmt.Sprintf("NOT done: %s %s: cannot write the audit trail: %v", a.kind, a.op, msg.err), true)
		return nil
	case errors.Is(msg.err, queue.ErrBadState):
		m.say(fmt.Sprintf("%s %s refused: the operator's state changed meanwhile", a.kind, a.op), true)
	case errors.Is(msg.err, queue.ErrUnknownOperator):
		m.say(fmt.Sprintf("%s %s refused: unknown operator", a.kind, a.op), true)
	case msg.err != nil:
		m.say(fmt.Sprintf("%s %s failed: %s", a.kind, a.op, rootCause(msg.err)), true)
	default:
		m.say(fmt.Sprintf("%s %s: done by %s", a.kind, a.op, m.o.Supervisor), false)
	}
	if msg.auditErr != nil {
		m.flash += fmt.Sprintf(" (audit trail NOT updated with the result: %v)", msg.auditErr)
		m.flashBad = true
	}
	return m.requestFetch()
}
