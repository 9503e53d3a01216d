package callerid_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/helpline-it/helpline/callerid"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		raw       string
		canonical string
		withheld  bool
		valid     bool
	}{
		{"+393331234567", "+393331234567", false, true},
		{"+39 333 123 4567", "+393331234567", false, true},
		{"0039 333 1234567", "+393331234567", false, true},
		{"3331234567", "+393331234567", false, true},
		{"06 1234 5678", "+390612345678", false, true},
		{"0044 20 7946 0958", "+442079460958", false, true},
		{"+33 1 23 45 67 89", "+33123456789", false, true},
		{"", "", true, false},
		{"  Anonymous ", "", true, false},
		{"PRIVATE", "", true, false},
		{"<unknown>", "", true, false},
		{"abc", "", true, false},
		{"12ab34", "raw:1234", false, false},
		{"+39+333", "raw:39333", false, false},
		{"1", "raw:1", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			c, w, v := callerid.Normalize(tt.raw, "IT")
			if c != tt.canonical || w != tt.withheld || v != tt.valid {
				t.Errorf("Normalize(%q) = %q, %v, %v; want %q, %v, %v", tt.raw, c, w, v, tt.canonical, tt.withheld, tt.valid)
			}
		})
	}
}

func mustHasher(t *testing.T, key string) *callerid.Hasher {
	t.Helper()
	h, err := callerid.NewHasher([]byte(key))
	if err != nil {
		t.Fatalf("NewHasher: %v", err)
	}
	return h
}

func TestIdentifySameCallerAcrossFormats(t *testing.T) {
	h := mustHasher(t, "0123456789abcdef-test-key")
	a := h.Identify("+39 333 123 4567")
	b := h.Identify("00393331234567")
	c := h.Identify("3331234567")
	if a.Hash == "" || a.Hash != b.Hash || b.Hash != c.Hash {
		t.Fatalf("one caller, three formats, hashes differ: %q %q %q", a.Hash, b.Hash, c.Hash)
	}
	other := mustHasher(t, "another-key-of-16-bytes").Identify("+393331234567")
	if other.Hash == a.Hash {
		t.Fatal("two keys gave the same hash: the key is not used")
	}
	for _, id := range []callerid.Identity{a, b, c} {
		if strings.Contains(id.String(), "333") || strings.Contains(id.Hash, "3331234567") {
			t.Fatalf("identity leaks digits: %s", id)
		}
	}
}

func TestIdentifyWithheld(t *testing.T) {
	h := mustHasher(t, "0123456789abcdef")
	id := h.Identify("anonymous")
	if !id.Withheld || id.Hash != "" || id.Tag() != "anonimo" || id.String() != "withheld" {
		t.Fatalf("withheld identity = %+v (%s, %s)", id, id, id.Tag())
	}
}

func TestNewHasherRejectsShortKey(t *testing.T) {
	_, err := callerid.NewHasher([]byte("short"))
	if !errors.Is(err, callerid.ErrShortKey) {
		t.Fatalf("NewHasher(short) error = %v; want ErrShortKey", err)
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"+393331234567", "0039 333", "anonymous", "12ab", "", "+", "00", "+39+39", "(06) 123-456"} {
		f.Add(s)
	}
	h, err := callerid.NewHasher([]byte("fuzz-key-0123456789"))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		c, w, v := callerid.Normalize(raw, "IT")
		if w && (c != "" || v) {
			t.Fatalf("withheld but canonical=%q valid=%v", c, v)
		}
		if !w && c == "" {
			t.Fatalf("not withheld but no canonical form for %q", raw)
		}
		if v && !strings.HasPrefix(c, "+") {
			t.Fatalf("valid number %q not in E.164: %q", raw, c)
		}
		id := h.Identify(raw)
		if id.Withheld != w || (!w && len(id.Hash) != 64) {
			t.Fatalf("Identify(%q) = %+v", raw, id)
		}
		// Idempotent: the canonical form of a valid number normalises to itself.
		if v {
			if c2, _, _ := callerid.Normalize(c, "IT"); c2 != c {
				t.Fatalf("Normalize not idempotent: %q -> %q -> %q", raw, c, c2)
			}
		}
	})
}

func ExampleHasher_Identify() {
	h, _ := callerid.NewHasher([]byte("example-key-not-a-secret"))
	a := h.Identify("+39 333 123 4567")
	b := h.Identify("0039 3331234567")
	fmt.Println(a.Hash == b.Hash, len(a.Hash), h.Identify("Anonymous"))
	// Output: true 64 withheld
}
