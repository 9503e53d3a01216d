package directory

import (
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
)

// Codes are four digits, 1000–9999: short enough to dial after a feature
// code (*20 then 1234), long enough for every service in Italy, and never
// confused with a province's three-digit dial code or a phone number.
const (
	codeMin    = 1000
	codeMax    = 9999
	codeDigits = 4
)

// checkCode accepts a code written in the file.
func checkCode(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil || len(s) != codeDigits || n < codeMin || n > codeMax {
		return fmt.Errorf("%q is not a code: want four digits, 1000 to 9999", clip(s))
	}
	return nil
}

// IsCode reports whether s has the shape of an entry code (four digits,
// not starting with 0).
func IsCode(s string) bool { return checkCode(s) == nil }

// preferredCode is where the search for a row's code starts: a hash of its
// key, so that the same service gets the same code in any database that
// did not already use it for something else.
func preferredCode(key string) int {
	h := fnv.New64a()
	h.Write([]byte(key))
	return codeMin + int(h.Sum64()%uint64(codeMax-codeMin+1))
}

// assignCodes gives every row without a code one, and returns the rows
// with their codes. The rules, in order:
//
//  1. a code written in the file is the row's code;
//  2. a row whose key (type, province, municipality, name) matches an
//     entry already stored keeps that entry's code, unless the file gives
//     that code to another row;
//  3. any other row takes its preferredCode, or the next free one
//     upwards (wrapping from 9999 to 1000), skipping every code stored or
//     already given; rows are served in key order, so the result does not
//     depend on the order of the file.
//
// A code, once given, is therefore never moved to another service by a
// re-import, and codes of entries missing from the file stay reserved
// while those entries are kept.
func assignCodes(rows []Row, existing []Entry) ([]Row, error) {
	taken := map[int]bool{}
	claimed := map[string]bool{} // codes written in the file
	for _, e := range existing {
		n, _ := strconv.Atoi(e.Code)
		taken[n] = true
	}
	for _, r := range rows {
		if r.Entry.Code != "" {
			claimed[r.Entry.Code] = true
			n, _ := strconv.Atoi(r.Entry.Code)
			taken[n] = true
		}
	}
	// Stored codes by key; several when codes were written by hand.
	byKey := map[string][]string{}
	for _, e := range existing {
		byKey[e.key()] = append(byKey[e.key()], e.Code)
	}
	out := slices.Clone(rows)
	var fresh []int // indexes of rows that need a new code
	used := map[string]bool{}
	for i := range out {
		if out[i].Entry.Code != "" {
			continue
		}
		codes := byKey[out[i].Entry.key()]
		slices.Sort(codes)
		reused := false
		for _, c := range codes {
			if !claimed[c] && !used[c] {
				out[i].Entry.Code, used[c], reused = c, true, true
				break
			}
		}
		if !reused {
			fresh = append(fresh, i)
		}
	}
	slices.SortFunc(fresh, func(a, b int) int {
		ka, kb := out[a].Entry.key(), out[b].Entry.key()
		switch {
		case ka < kb:
			return -1
		case ka > kb:
			return 1
		}
		return 0
	})
	for _, i := range fresh {
		start := preferredCode(out[i].Entry.key())
		n := start
		for taken[n] {
			if n++; n > codeMax {
				n = codeMin
			}
			if n == start {
				return nil, ErrCodesExhausted
			}
		}
		taken[n] = true
		out[i].Entry.Code = strconv.Itoa(n)
	}
	return out, nil
}

// Dialled is what an operator typed after a directory feature code,
// classified by its length so that one feature code serves all three.
type Dialled struct {
	// Kind says which of the fields is set.
	Kind DialledKind
	// Code of an entry (DialledEntry).
	Code string
	// Province asked for (DialledProvince).
	Province Province
	// Number to dial as it is (DialledNumber).
	Number string
}

// DialledKind tells what Dialled holds.
type DialledKind int

// Kinds of dialled strings.
const (
	DialledInvalid  DialledKind = iota
	DialledProvince             // three digits: a province's ISTAT number
	DialledEntry                // four digits: an entry's code
	DialledNumber               // five or more digits: a phone number
)

// ParseDialled classifies digits dialled after a feature code: three
// digits are a province's ISTAT number ("028" for Padova: suggest its
// services), four an entry's code ("1234": call it), more a phone number.
// It checks the shape only: whether the entry exists is the Store's
// business, whether the number is allowed the caller's.
func ParseDialled(digits string) (Dialled, error) {
	for _, r := range digits {
		if r < '0' || r > '9' {
			return Dialled{}, fmt.Errorf("directory: %q: only digits can follow the feature code", clip(digits))
		}
	}
	switch n := len(digits); {
	case n == 3:
		p, ok := ProvinceByDialCode(digits)
		if !ok {
			return Dialled{}, fmt.Errorf("directory: %s is no province's ISTAT number: %w", digits, ErrUnknownProvince)
		}
		return Dialled{Kind: DialledProvince, Province: p}, nil
	case n == codeDigits:
		if err := checkCode(digits); err != nil {
			return Dialled{}, fmt.Errorf("directory: %w", err)
		}
		return Dialled{Kind: DialledEntry, Code: digits}, nil
	case n >= 5 && n <= 16:
		return Dialled{Kind: DialledNumber, Number: digits}, nil
	}
	return Dialled{}, fmt.Errorf("directory: %q is neither a province (3 digits), a code (4) nor a number", clip(digits))
}
