package callerid_test

import (
	"testing"

	"github.com/helpline-it/helpline/callerid"
)

func BenchmarkIdentify(b *testing.B) {
	h, _ := callerid.NewHasher([]byte("bench-key-0123456789abcdef012345"))
	for _, tc := range []struct{ name, raw string }{
		{"e164", "+393331234567"},
		{"national", "3331234567"},
		{"spaced", "+39 333 123 4567"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				_ = h.Identify(tc.raw)
			}
		})
	}
}
