package ari

import (
	"math/rand/v2"
	"time"
)

// ExponentialBackoff returns a redial delay function in the style of
// go-redis's DialerRetryBackoff: attempt n (from 1) waits a random time in
// [d/2, d] where d = min·2^(n-1) capped at max. The jitter spreads the
// redials of several helpline nodes after an Asterisk restart.
func ExponentialBackoff(min, max time.Duration) func(attempt int) time.Duration {
	return func(attempt int) time.Duration {
		if attempt < 1 {
			attempt = 1
		}
		d := min
		for i := 1; i < attempt && d < max; i++ {
			d *= 2
		}
		if d > max {
			d = max
		}
		if d <= 1 {
			return d
		}
		half := d / 2
		return half + rand.N(d-half+1)
	}
}

// ConstantBackoff waits d before every redial.
func ConstantBackoff(d time.Duration) func(attempt int) time.Duration {
	return func(int) time.Duration { return d }
}
