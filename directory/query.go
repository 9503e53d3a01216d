package directory

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// Directory is the network's directory over a Store: what the CLI and the
// operators' feature-code handler use.
type Directory struct {
	store Store
}

// New returns a Directory over s.
func New(s Store) *Directory { return &Directory{store: s} }

// Import is the package-level Import on d's store.
func (d *Directory) Import(ctx context.Context, r io.Reader, opts ImportOptions) (ImportResult, error) {
	return Import(ctx, d.store, r, opts)
}

// Lookup returns the entry with code, in full (the switchboard dials its
// Dial); an error wrapping ErrNotFound if there is none. Print it through
// Entry.Redacted.
func (d *Directory) Lookup(ctx context.Context, code string) (Entry, error) {
	if !IsCode(code) {
		return Entry{}, fmt.Errorf("directory: %q is not a code (four digits): %w", clip(code), ErrNotFound)
	}
	return d.store.Get(ctx, code)
}

// List returns every entry by code, redacted unless confidential is true.
func (d *Directory) List(ctx context.Context, confidential bool) ([]Entry, error) {
	return d.Search(ctx, Query{Confidential: confidential})
}

// Search returns the entries matching q (see the package function).
func (d *Directory) Search(ctx context.Context, q Query) ([]Entry, error) {
	all, err := d.store.List(ctx)
	if err != nil {
		return nil, err
	}
	return Search(all, q)
}

// Suggest returns whom to call for a caller from province (see the
// package function).
func (d *Directory) Suggest(ctx context.Context, province string, now time.Time, loc *time.Location) ([]Suggestion, error) {
	all, err := d.store.List(ctx)
	if err != nil {
		return nil, err
	}
	return Suggest(all, province, now, loc)
}

// Query selects entries. Empty fields select everything.
type Query struct {
	// Text: every word must occur (case and accents ignored) in the code,
	// name, type, municipality, province, region, address, phone or
	// notes of the entry as shown.
	Text string
	// Province: a sigla, name or ISTAT number.
	Province string
	// Region: a region's name.
	Region string
	// Type: 0 for any.
	Type Type
	// Confidential shows confidential entries in full and lets Text match
	// their hidden fields. Without it they are redacted (Entry.Redacted)
	// and Text matches only what is shown: a search for a street must not
	// reveal that a shelter is there.
	Confidential bool
}

// Search filters entries by q and returns them ordered by code, redacted
// unless q.Confidential. A province or region that does not exist is an
// error wrapping ErrUnknownProvince.
func Search(entries []Entry, q Query) ([]Entry, error) {
	var prov, region string
	if q.Province != "" {
		p, ok := LookupProvince(q.Province)
		if !ok {
			return nil, fmt.Errorf("directory: %q: %w", clip(q.Province), ErrUnknownProvince)
		}
		prov = p.Code
	}
	if q.Region != "" {
		r, ok := LookupRegion(q.Region)
		if !ok {
			return nil, fmt.Errorf("directory: %q is not an Italian region", clip(q.Region))
		}
		region = r
	}
	words := strings.Fields(fold(q.Text))
	var out []Entry
	for _, e := range entries {
		if !q.Confidential {
			e = e.Redacted()
		}
		switch {
		case prov != "" && e.Province != prov,
			region != "" && e.Region != region,
			q.Type != 0 && e.Type != q.Type:
			continue
		}
		if len(words) > 0 {
			hay := fold(strings.Join([]string{e.Code, e.Name, e.Type.String(), e.Type.Italian(), e.Municipality,
				e.Province, e.Region, e.Address, e.Phone, e.Dial, e.Notes}, " "))
			if !containsAll(hay, words) {
				continue
			}
		}
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b Entry) int { return cmp.Compare(a.Code, b.Code) })
	return out, nil
}

func containsAll(hay string, words []string) bool {
	for _, w := range words {
		if !strings.Contains(hay, w) {
			return false
		}
	}
	return true
}

// Suggestion is one service Suggest proposes.
type Suggestion struct {
	// Entry in full: the handler dials Entry.Dial; print Entry.Redacted().
	Entry Entry
	// SameProvince is true for the caller's province, false for the rest
	// of its region.
	SameProvince bool
	// State is whether the service answers now by its hours.
	State OpenState
	// NextOpen is when a Closed service opens next (within a week), zero
	// otherwise.
	NextOpen time.Time
}

// Suggest lists the services an operator can call for a caller from
// province (a sigla, name or ISTAT number): those of the province first,
// then those of the rest of its region; within each, open now first, then
// unknown hours, then closed; then by type (cav, shelter, police,
// carabinieri, health, legal, social, other); closed services of one type
// by when they open next; then by name. now is read on
// loc's wall clock (the service's zone, Europe/Rome). An unknown province
// is an error wrapping ErrUnknownProvince.
func Suggest(entries []Entry, province string, now time.Time, loc *time.Location) ([]Suggestion, error) {
	p, ok := LookupProvince(province)
	if !ok {
		return nil, fmt.Errorf("directory: %q: %w", clip(province), ErrUnknownProvince)
	}
	if loc == nil {
		loc = time.UTC
	}
	type ranked struct {
		Suggestion
		name string // folded once, not at every comparison
	}
	var rs []ranked
	for _, e := range entries {
		if e.Region != p.Region {
			continue
		}
		s := Suggestion{Entry: e, SameProvince: e.Province == p.Code, State: e.Hours.StateAt(now, loc)}
		if s.State == Closed {
			s.NextOpen, _ = e.Hours.NextOpen(now, loc)
		}
		rs = append(rs, ranked{s, fold(e.Name)})
	}
	slices.SortFunc(rs, func(a, b ranked) int {
		if a.SameProvince != b.SameProvince {
			if a.SameProvince {
				return -1
			}
			return 1
		}
		return cmp.Or(
			cmp.Compare(a.State, b.State),
			cmp.Compare(a.Entry.Type, b.Entry.Type),
			a.NextOpen.Compare(b.NextOpen), // zero unless both closed
			cmp.Compare(a.name, b.name),
			cmp.Compare(a.Entry.Code, b.Entry.Code),
		)
	})
	out := make([]Suggestion, len(rs))
	for i, r := range rs {
		out[i] = r.Suggestion
	}
	return out, nil
}
