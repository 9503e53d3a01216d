package directory

import (
	_ "embed"
	"encoding/csv"
	"fmt"
	"strings"
	"sync"
)

// provincesCSV lists Italy's 107 provinces and metropolitan cities: the
// ISTAT number (the three digits that open every municipality's ISTAT
// code), the sigla on number plates, the name and the region. It is the
// list as of the 2017 reorganisation of Sardinia (SU); the later Sardinian
// reform and the Sicilian and Friulian renumbering do not change the
// siglas people write in spreadsheets, which is what the directory
// validates.
//
//go:embed provinces.csv
var provincesCSV string

// Province is one Italian province (or metropolitan city).
type Province struct {
	// Code is the sigla, "PD".
	Code string
	// Name is the Italian name, "Padova".
	Name string
	// Region is the canonical name of its region, "Veneto".
	Region string
	// DialCode is the ISTAT number, three digits ("028"): what an operator
	// dials after a feature code to ask for a province, since a sigla
	// cannot be typed on a phone keypad.
	DialCode string
}

// provinceTable is the parsed provincesCSV with its indexes. It is built
// once, lazily, and never changes: a constant table, not mutable state.
type provinceTable struct {
	list    []Province
	byCode  map[string]Province
	byName  map[string]Province // folded name
	byDial  map[string]Province
	regions map[string]string // folded region name or alias → canonical name
}

var provinces = sync.OnceValue(func() *provinceTable {
	r := csv.NewReader(strings.NewReader(provincesCSV))
	r.Comma = ';'
	recs, err := r.ReadAll()
	if err != nil || len(recs) < 2 {
		panic(fmt.Sprintf("directory: embedded provinces.csv is broken: %v", err))
	}
	t := &provinceTable{
		byCode: map[string]Province{}, byName: map[string]Province{},
		byDial: map[string]Province{}, regions: map[string]string{},
	}
	for _, rec := range recs[1:] {
		p := Province{DialCode: rec[0], Code: rec[1], Name: rec[2], Region: rec[3]}
		t.list = append(t.list, p)
		t.byCode[p.Code] = p
		t.byName[fold(p.Name)] = p
		t.byDial[p.DialCode] = p
		t.regions[foldTight(p.Region)] = p.Region
	}
	// Names people write for the same province or region.
	for alias, code := range map[string]string{
		"Reggio nell'Emilia": "RE", "Reggio di Calabria": "RC", "Forli Cesena": "FC",
		"Pesaro Urbino": "PU", "Massa Carrara": "MS", "Massa e Carrara": "MS", "Monza e della Brianza": "MB",
		"Monza": "MB", "Bolzano/Bozen": "BZ", "Bozen": "BZ", "Aosta/Aoste": "AO", "Roma Capitale": "RM",
		"Verbania": "VB",
	} {
		t.byName[fold(alias)] = t.byCode[code]
	}
	for alias, region := range map[string]string{
		"Trentino-Alto Adige/Südtirol": "Trentino-Alto Adige", "Trentino Südtirol": "Trentino-Alto Adige",
		"Trentino": "Trentino-Alto Adige", "Alto Adige": "Trentino-Alto Adige",
		"Valle d'Aosta/Vallée d'Aoste": "Valle d'Aosta", "Vallée d'Aoste": "Valle d'Aosta",
		"FVG": "Friuli-Venezia Giulia", "Friuli": "Friuli-Venezia Giulia",
	} {
		t.regions[foldTight(alias)] = region
	}
	return t
})

// Provinces returns every province, in ISTAT order.
func Provinces() []Province {
	return append([]Province(nil), provinces().list...)
}

// LookupProvince finds a province by sigla ("PD", "pd"), name ("Padova",
// "Forlì-Cesena", case and accents ignored) or ISTAT dial code ("028").
func LookupProvince(s string) (Province, bool) {
	t := provinces()
	s = strings.TrimSpace(s)
	if p, ok := t.byCode[strings.ToUpper(s)]; ok {
		return p, true
	}
	if p, ok := t.byDial[s]; ok {
		return p, true
	}
	p, ok := t.byName[fold(s)]
	return p, ok
}

// ProvinceByDialCode finds a province by its three-digit ISTAT number, as
// an operator dials it after a feature code. Nothing else is accepted.
func ProvinceByDialCode(digits string) (Province, bool) {
	p, ok := provinces().byDial[digits]
	return p, ok
}

// LookupRegion returns the canonical name of a region written any usual
// way: "Emilia Romagna", "emilia-romagna", "FVG", "Valle d'Aosta/Vallée
// d'Aoste".
func LookupRegion(s string) (string, bool) {
	r, ok := provinces().regions[foldTight(s)]
	return r, ok
}

// Regions returns the 20 canonical region names, sorted.
func Regions() []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range provinces().list {
		if !seen[p.Region] {
			seen[p.Region] = true
			out = append(out, p.Region)
		}
	}
	sortStrings(out)
	return out
}
