package callerid

import (
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

// parseE164 is the slow path the fast one must agree with.
func parseE164(s string) (string, bool) {
	num, err := phonenumbers.Parse(s, DefaultRegion)
	if err != nil || !phonenumbers.IsPossibleNumber(num) {
		return "", false
	}
	return phonenumbers.Format(num, phonenumbers.E164), true
}

func checkFastPath(t *testing.T, s string) {
	t.Helper()
	fast, fok := fastItalianE164(s)
	slow, sok := parseE164(s)
	if fok && (!sok || fast != slow) {
		t.Fatalf("fast path disagrees on %q: fast=%q,%v slow=%q,%v", s, fast, fok, slow, sok)
	}
}

func TestFastPathAgreesWithParse(t *testing.T) {
	fixed := []string{
		"+393331234567", "+39061234567", "+390612345678", "+3900612345", "+39000",
		"+390", "+3912", "+39123456789012", "+393", "+3933312345678901", "+39800123456",
		"+39199123456", "+3931234", "+3901",
	}
	for _, s := range fixed {
		checkFastPath(t, s)
	}
	hits := 0
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 20000; i++ {
		n := 1 + r.IntN(13)
		s := "+39"
		for j := 0; j < n; j++ {
			s += strconv.Itoa(r.IntN(10))
		}
		checkFastPath(t, s)
		if _, ok := fastItalianE164(s); ok {
			hits++
		}
	}
	// The fast path must actually serve ordinary numbers, or it is dead code.
	if _, ok := fastItalianE164("+393331234567"); !ok || hits == 0 {
		t.Fatalf("fast path served %d of 20000 random +39 numbers and not +393331234567", hits)
	}
}

func FuzzFastPath(f *testing.F) {
	for _, s := range []string{"+393331234567", "+39061234567", "+3900", "+39"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { checkFastPath(t, s) })
}
