package liveview

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/helpline-it/helpline/queue"
)

// FuzzRender draws boards built from hostile queue contents (names,
// reasons, tags, languages as another tool could write them in the shared
// Redis) in windows of any size: the frame never exceeds the window,
// never carries a control character in monochrome, and never shows a
// tag of the wrong shape.
func FuzzRender(f *testing.F) {
	f.Add("op-1", "Anna", "it", "3f9a2c01", "supervisor:bob", 80, 24, 3, 5)
	f.Add("op\x1b[2J", "\x1b]0;pwned\x07", "a\u202eb", "+393331234567", "\x00\xff", 40, 10, 9, 1)
	f.Add("عربية", "名前", "zh", "anonimo", strings.Repeat("x", 300), 200, 60, 30, 30)
	f.Fuzz(func(t *testing.T, id, name, lang, tag, reason string, width, height, calls, ops int) {
		width = 40 + abs(width)%200
		height = abs(height) % 80
		calls, ops = abs(calls)%40, abs(ops)%40
		snap := &queue.Snapshot{At: t0, Waiting: map[string][]queue.WaitingCall{}}
		for i := range calls {
			snap.Waiting[lang] = append(snap.Waiting[lang], queue.WaitingCall{
				Call:      queue.Call{ID: id, Language: lang, Tag: tag, Enqueued: t0.Add(-time.Duration(i) * time.Minute)},
				OfferedTo: id,
			})
		}
		states := []queue.State{queue.Available, queue.Ringing, queue.Busy, queue.WrapUp, queue.Paused, queue.State(reason)}
		for i := range ops {
			snap.Operators = append(snap.Operators, queue.Operator{ID: id + string(rune('a'+i%26)), Skills: []string{lang, reason},
				State: states[i%len(states)], Since: t0.Add(-time.Hour), PauseReason: reason, CallID: id, WrapUntil: t0.Add(time.Minute)})
		}
		b := buildBoard(boardInput{service: "1522", now: t0, alert: time.Minute, snap: snap,
			languages: []Language{{Code: lang, Name: name}}, names: map[string]string{id + "a": name},
			status: Status{Events: true, RedisErr: reason}, staleness: time.Minute, tags: map[string]string{id: tag}})
		frame := render(&b, NewStyles(MonochromeRenderer()), width, height, frameUI{interactive: true, selected: id + "b", message: reason, help: "q quit"})
		lines := strings.Split(frame, "\n")
		if height > 0 && len(lines) > height {
			t.Fatalf("%d lines in a window of %d", len(lines), height)
		}
		for i, l := range lines {
			if w := ansi.StringWidth(l); w > width {
				t.Fatalf("line %d is %d wide in a window of %d: %q", i+1, w, width, l)
			}
		}
		for _, r := range frame {
			if r != '\n' && (r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0)) {
				t.Fatalf("control character %U in the frame:\n%q", r, frame)
			}
		}
		shown := func(tg string) bool { return tg == "" || tg == maskedTag || tagRE.MatchString(tg) }
		for _, l := range b.Languages {
			for _, c := range l.Waiting {
				if !shown(c.Tag) {
					t.Fatalf("waiting call with tag %q on the board", c.Tag)
				}
			}
		}
		for _, o := range b.Operators {
			if !shown(o.CallTag) {
				t.Fatalf("operator %q with call tag %q on the board", o.ID, o.CallTag)
			}
		}
	})
}

func abs(n int) int {
	if n < 0 {
		if n == -n { // math.MinInt
			return 0
		}
		return -n
	}
	return n
}
