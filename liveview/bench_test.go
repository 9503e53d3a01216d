package liveview

import (
	"testing"
)

// BenchmarkView measures one frame (board + render) of a settled view:
// the view redraws every second and after every event.
func BenchmarkView(b *testing.B) {
	for _, tc := range []struct {
		name  string
		setup func(t testing.TB, w *world)
	}{{"evening", evening}, {"crowded", crowded}} {
		b.Run(tc.name, func(b *testing.B) {
			w := newWorld(b)
			tc.setup(b, w)
			m, err := New(w.ctx, w.deps(), w.options())
			if err != nil {
				b.Fatal(err)
			}
			// Feed the first snapshot and records directly.
			m.Update(m.startFetch()())
			m.Update(m.startRecords()())
			if m.snap == nil || !m.day.loaded {
				b.Fatal("not settled")
			}
			b.ReportAllocs()
			for b.Loop() {
				_ = m.View()
			}
		})
	}
}
