package ari_test

import (
	"testing"

	"github.com/helpline-it/helpline/ari"
)

// BenchmarkDecodeEvent decodes the events of one recorded call, the
// per-frame cost on the WebSocket reader.
func BenchmarkDecodeEvent(b *testing.B) {
	var frames [][]byte
	for _, f := range traceEventBodies(b, "inbound_answer_play_dtmf_hangup.jsonl") {
		frames = append(frames, []byte(f))
	}
	if len(frames) == 0 {
		b.Fatal("no frames")
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if _, err := ari.DecodeEvent(frames[i%len(frames)]); err != nil {
			b.Fatal(err)
		}
	}
}
