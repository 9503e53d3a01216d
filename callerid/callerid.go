package callerid

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/nyaruka/phonenumbers"
)

// DefaultRegion is the region assumed for numbers without an international
// prefix: the helplines we serve are Italian.
const DefaultRegion = "IT"

// MinKeyLen is the shortest HMAC key this package accepts: 16 bytes (128
// bits), the floor below which a brute force over all Italian mobile
// numbers (≈10^10) keyed with a guessable secret becomes practical. It is
// the mechanism's floor; deployments are held to the stricter policy of
// config.MinHMACKeyLength (32 bytes), which serve and cdr import enforce
// before they build a Hasher.
const MinKeyLen = 16

// ErrShortKey is returned by NewHasher for a key shorter than MinKeyLen.
var ErrShortKey = errors.New("callerid: HMAC key shorter than 16 bytes")

// Identity is what helpline knows of a caller: never the number itself.
type Identity struct {
	// Hash is the hex HMAC-SHA256 of Canonical under the service key; empty
	// when the caller is withheld.
	Hash string
	// Withheld is true for anonymous, private, restricted or empty caller
	// IDs. Such callers are never blacklisted and never flagged.
	Withheld bool
	// Valid is false when the number could not be parsed as a phone number
	// (an odd caller ID such as "12ab" or an over-long string). It is still
	// hashed, over its digits, so the call is counted and can be recognised
	// again; it is simply not a trusted E.164 number.
	Valid bool
}

// String never prints a number; it is safe in logs.
func (id Identity) String() string {
	switch {
	case id.Withheld:
		return "withheld"
	case len(id.Hash) >= 12:
		return "caller:" + id.Hash[:12]
	default:
		return "caller:?"
	}
}

// Tag is a short, non-reversible label for display (the supervisor's live
// view): the first 8 hex digits of the hash, or "anonimo" when withheld.
func (id Identity) Tag() string {
	if id.Withheld || len(id.Hash) < 8 {
		return "anonimo"
	}
	return id.Hash[:8]
}

// Hasher derives Identities with one secret key. It is safe for
// concurrent use.
type Hasher struct {
	key    []byte
	region string
}

// NewHasher returns a Hasher keyed with key (at least MinKeyLen bytes).
// The key comes from the environment or a file, never from config.
func NewHasher(key []byte) (*Hasher, error) {
	if len(key) < MinKeyLen {
		return nil, fmt.Errorf("%w (got %d bytes)", ErrShortKey, len(key))
	}
	k := make([]byte, len(key))
	copy(k, key)
	return &Hasher{key: k, region: DefaultRegion}, nil
}

// Identify normalises raw and returns the caller's Identity. It never
// fails: every caller gets an identity, because refusing one would mean
// losing a call.
func (h *Hasher) Identify(raw string) Identity {
	canon, withheld, valid := Normalize(raw, h.region)
	if withheld {
		return Identity{Withheld: true}
	}
	return Identity{Hash: h.HashCanonical(canon), Valid: valid}
}

// HashCanonical returns the hex HMAC of an already-normalised number. Most
// callers want Identify.
func (h *Hasher) HashCanonical(canonical string) string {
	m := hmac.New(sha256.New, h.key)
	m.Write([]byte(canonical))
	return hex.EncodeToString(m.Sum(nil))
}

// withheldIDs are the caller-ID strings networks and Asterisk use for a
// withheld number, compared case-insensitively after trimming.
var withheldIDs = map[string]bool{
	"": true, "anonymous": true, "anonimo": true, "private": true,
	"privato": true, "restricted": true, "unknown": true, "unavailable": true,
	"withheld": true, "<unknown>": true, "sconosciuto": true, "riservato": true,
	"asterisk": true,
}

// Normalize returns the canonical form of raw (E.164 such as
// "+393331234567" when it parses), whether it is a withheld caller ID, and
// whether it parsed as a possible phone number. Numbers without an
// international prefix are read in region. An unparsable caller ID
// canonicalises to "raw:" plus its digits; one with no digits at all is
// treated as withheld.
func Normalize(raw, region string) (canonical string, withheld, valid bool) {
	s := strings.TrimSpace(raw)
	if withheldIDs[strings.ToLower(s)] {
		return "", true, false
	}
	// An over-long caller ID is garbage; cap the work we do on it.
	if len(s) > 64 {
		s = s[:64]
	}
	var digits strings.Builder
	for _, r := range s {
		if r < unicode.MaxASCII && unicode.IsDigit(r) {
			digits.WriteRune(r)
		}
	}
	if digits.Len() == 0 {
		return "", true, false
	}
	if region == "" {
		region = DefaultRegion
	}
	if c, ok := fastItalianE164(s); ok {
		return c, false, true
	}
	// "00" is the international prefix in Italy and most of Europe;
	// phonenumbers handles it for region IT already, but a number with
	// letters or other junk should not get that far.
	if plausible(s) {
		if num, err := phonenumbers.Parse(s, region); err == nil && phonenumbers.IsPossibleNumber(num) {
			// A canonical form must read back as itself, or one caller
			// would get two hashes: junk such as "0 08  1000000000000000"
			// formats to "+8100000000000000", which parses to
			// "+810000000000000" (Japan's national prefix is stripped).
			// Such a number is not trusted (testdata/fuzz/FuzzNormalize).
			e164 := phonenumbers.Format(num, phonenumbers.E164)
			if again, err := phonenumbers.Parse(e164, region); err == nil && phonenumbers.Format(again, phonenumbers.E164) == e164 {
				return e164, false, true
			}
		}
	}
	return "raw:" + digits.String(), false, false
}

// fastItalianE164 recognises the form Italian trunks deliver most calls
// in, "+39" and digits, and returns it as its own canonical form when
// phonenumbers would agree it is a possible number. It builds the parsed
// number directly instead of going through phonenumbers.Parse, whose
// regular expressions cost tens of microseconds a call (the CDR import of
// a quarter hashes every caller; see BENCHMARKS.md). Italy has no national
// prefix to strip, so "+39" followed by the national significant number,
// leading zero included, is exactly what Parse+Format(E164) produce; the
// equivalence is checked by TestFastPathAgreesWithParse and the fuzz test.
// Anything else falls through to the full parser.
func fastItalianE164(s string) (string, bool) {
	if len(s) < 5 || len(s) > 17 || s[:3] != "+39" {
		return "", false
	}
	nat := s[3:]
	for i := 0; i < len(nat); i++ {
		if nat[i] < '0' || nat[i] > '9' {
			return "", false
		}
	}
	num := &phonenumbers.PhoneNumber{}
	num.CountryCode = proto32(39)
	zeros := 0
	for zeros < len(nat)-1 && nat[zeros] == '0' {
		zeros++
	}
	if zeros > 0 {
		num.ItalianLeadingZero = protoBool(true)
		if zeros > 1 {
			num.NumberOfLeadingZeros = proto32(int32(zeros))
		}
	}
	var n uint64
	for i := zeros; i < len(nat); i++ {
		n = n*10 + uint64(nat[i]-'0')
	}
	num.NationalNumber = &n
	if !phonenumbers.IsPossibleNumber(num) {
		return "", false
	}
	return s, true
}

func proto32(v int32) *int32 { return &v }
func protoBool(v bool) *bool { return &v }

// plausible reports whether s looks like a dialled number: digits with the
// usual separators and at most one leading plus.
func plausible(s string) bool {
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')' || r == '/':
		case r == '+' && i == 0:
		default:
			return false
		}
	}
	return true
}
