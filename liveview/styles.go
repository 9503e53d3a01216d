package liveview

import (
	"github.com/charmbracelet/lipgloss"

	"github.com/helpline-it/helpline/queue"
)

// Styles are the lipgloss styles of the view. Colour only ever repeats
// what the text already says (a "!" beside a long wait, the state's name,
// a badge word), so the picture reads the same in monochrome, under
// NO_COLOR, or on a printed copy.
type Styles struct {
	Title    lipgloss.Style
	Section  lipgloss.Style
	Header   lipgloss.Style
	Dim      lipgloss.Style
	Alert    lipgloss.Style
	Warn     lipgloss.Style
	Live     lipgloss.Style
	Selected lipgloss.Style
	Confirm  lipgloss.Style
	Error    lipgloss.Style
	State    map[queue.State]lipgloss.Style
}

// NewStyles returns the styles for renderer r (whose colour profile
// decides whether any colour is emitted: termenv.Ascii emits none).
func NewStyles(r *lipgloss.Renderer) *Styles {
	st := &Styles{
		Title:    r.NewStyle().Bold(true),
		Section:  r.NewStyle().Bold(true),
		Header:   r.NewStyle().Faint(true),
		Dim:      r.NewStyle().Faint(true),
		Alert:    r.NewStyle().Bold(true).Foreground(lipgloss.Color("15")).Background(lipgloss.Color("1")),
		Warn:     r.NewStyle().Bold(true).Foreground(lipgloss.Color("0")).Background(lipgloss.Color("3")),
		Live:     r.NewStyle().Bold(true).Foreground(lipgloss.Color("2")),
		Selected: r.NewStyle().Reverse(true),
		Confirm:  r.NewStyle().Bold(true).Foreground(lipgloss.Color("0")).Background(lipgloss.Color("11")),
		Error:    r.NewStyle().Bold(true).Foreground(lipgloss.Color("9")),
		State: map[queue.State]lipgloss.Style{
			queue.Available: r.NewStyle().Bold(true).Foreground(lipgloss.Color("2")),
			queue.Ringing:   r.NewStyle().Bold(true).Foreground(lipgloss.Color("11")),
			queue.Busy:      r.NewStyle().Foreground(lipgloss.Color("12")),
			queue.WrapUp:    r.NewStyle().Foreground(lipgloss.Color("6")),
			queue.Paused:    r.NewStyle().Foreground(lipgloss.Color("9")),
		},
	}
	return st
}

// stateLabel is how an operator state reads on screen: short words a
// supervisor knows, the same width budget for all.
func stateLabel(s queue.State) string {
	switch s {
	case queue.Available:
		return "free"
	case queue.Ringing:
		return "ringing"
	case queue.Busy:
		return "busy"
	case queue.WrapUp:
		return "wrap-up"
	case queue.Paused:
		return "PAUSED"
	case queue.LoggedOut:
		return "out"
	}
	return string(s)
}
