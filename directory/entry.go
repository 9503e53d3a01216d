package directory

import (
	"fmt"
	"strings"
)

// Type is the kind of service. The order of the constants is the order in
// which Suggest offers services of the same place and opening state: an
// anti-violence centre first, because it takes charge of the woman; the
// police when she needs protection now.
type Type int

// Types of service.
const (
	TypeCAV         Type = iota + 1 // centro antiviolenza
	TypeShelter                     // casa rifugio (confidential address)
	TypePolice                      // polizia di stato: questura, commissariato
	TypeCarabinieri                 // stazione dei carabinieri
	TypeHealth                      // pronto soccorso, consultorio, ASL
	TypeLegal                       // sportello legale, avvocate
	TypeSocial                      // servizi sociali del comune
	TypeOther                       // anything else
)

var typeNames = [...]string{
	TypeCAV: "cav", TypeShelter: "shelter", TypePolice: "police", TypeCarabinieri: "carabinieri",
	TypeHealth: "health", TypeLegal: "legal", TypeSocial: "social", TypeOther: "other",
}

var typeLabelsIT = [...]string{
	TypeCAV: "centro antiviolenza", TypeShelter: "casa rifugio", TypePolice: "polizia",
	TypeCarabinieri: "carabinieri", TypeHealth: "sanità", TypeLegal: "legale",
	TypeSocial: "servizi sociali", TypeOther: "altro",
}

// typeAliases maps the folded labels found in the Mappatura and in
// regional spreadsheets to a Type.
var typeAliases = map[string]Type{
	"cav": TypeCAV, "centro antiviolenza": TypeCAV, "centro anti violenza": TypeCAV, "centri antiviolenza": TypeCAV,
	"shelter": TypeShelter, "casa rifugio": TypeShelter, "case rifugio": TypeShelter, "casa di accoglienza": TypeShelter,
	"police": TypePolice, "polizia": TypePolice, "polizia di stato": TypePolice, "questura": TypePolice, "commissariato": TypePolice,
	"carabinieri": TypeCarabinieri, "stazione carabinieri": TypeCarabinieri, "stazione dei carabinieri": TypeCarabinieri, "arma dei carabinieri": TypeCarabinieri,
	"health": TypeHealth, "sanita": TypeHealth, "sanitario": TypeHealth, "servizio sanitario": TypeHealth, "pronto soccorso": TypeHealth,
	"ospedale": TypeHealth, "consultorio": TypeHealth, "asl": TypeHealth, "ulss": TypeHealth, "ausl": TypeHealth,
	"legal": TypeLegal, "legale": TypeLegal, "sportello legale": TypeLegal, "avvocato": TypeLegal, "avvocata": TypeLegal, "assistenza legale": TypeLegal,
	"social": TypeSocial, "sociale": TypeSocial, "servizi sociali": TypeSocial, "servizio sociale": TypeSocial,
	"other": TypeOther, "altro": TypeOther, "altri": TypeOther,
}

// ParseType reads a type by its English name ("cav", "shelter") or an
// Italian label ("Centro antiviolenza", "Casa rifugio", "Questura",
// "Pronto soccorso"), ignoring case and accents.
func ParseType(s string) (Type, error) {
	if t, ok := typeAliases[fold(s)]; ok {
		return t, nil
	}
	return 0, fmt.Errorf("%q is not a service type (want one of %s, or an Italian label such as \"centro antiviolenza\", \"casa rifugio\")",
		s, strings.Join(typeNames[1:], ", "))
}

// Types returns every type in priority order.
func Types() []Type {
	return []Type{TypeCAV, TypeShelter, TypePolice, TypeCarabinieri, TypeHealth, TypeLegal, TypeSocial, TypeOther}
}

// Valid reports whether t is one of the constants.
func (t Type) Valid() bool { return t >= TypeCAV && t <= TypeOther }

// String is the English name used in files and flags: "cav", "shelter".
func (t Type) String() string {
	if !t.Valid() {
		return fmt.Sprintf("Type(%d)", int(t))
	}
	return typeNames[t]
}

// Italian is the label operators read: "centro antiviolenza".
func (t Type) Italian() string {
	if !t.Valid() {
		return t.String()
	}
	return typeLabelsIT[t]
}

// Entry is one service of the network: what an operator reads to choose
// whom to call, and the number the switchboard dials for them.
type Entry struct {
	// Code is the short dialable code, four digits 1000–9999, stable
	// across re-imports (see the package doc).
	Code string
	// Name of the service, "CAV Donne al Centro".
	Name string
	// Type of service.
	Type Type
	// Region is the canonical region name ("Veneto").
	Region string
	// Province is the sigla ("PD").
	Province string
	// Municipality is the comune ("Abano Terme"); may be empty.
	Municipality string
	// Address is the street address; confidential for shelters.
	Address string
	// Phone is the number as written in the file ("049 555 0101").
	Phone string
	// Dial is Phone reduced to the digits the switchboard dials: the
	// national form for an Italian number ("0495550101"), a short number
	// as it is ("112"), "00" and the international digits for a foreign
	// one.
	Dial string
	// Hours says when the service answers; the zero Hours is "unknown".
	Hours Hours
	// Notes for the operator (languages spoken, how to refer, …).
	Notes string
	// Confidential hides Address, Notes, Phone and Municipality from every
	// printout unless asked for (see Redacted). Shelters always are.
	Confidential bool
}

// key identifies a service for the code scheme: its type, province,
// municipality and name, folded. Two rows with the same key are the same
// service.
func (e Entry) key() string {
	return e.Type.String() + "|" + e.Province + "|" + fold(e.Municipality) + "|" + fold(e.Name)
}

// Equal reports whether two entries hold the same data (Hours compared by
// meaning, not by how they were written).
func (e Entry) Equal(o Entry) bool {
	return e.Code == o.Code && e.Name == o.Name && e.Type == o.Type && e.Region == o.Region &&
		e.Province == o.Province && e.Municipality == o.Municipality && e.Address == o.Address &&
		e.Phone == o.Phone && e.Dial == o.Dial && e.Hours.Equal(o.Hours) && e.Notes == o.Notes &&
		e.Confidential == o.Confidential
}

// Redacted returns the entry as a printout may show it: for a confidential
// entry, without Address, Notes, Phone, Dial and Municipality. An operator
// still calls it by Code (the switchboard dials it, nobody reads the
// number aloud), and the name, type, province and hours are enough to
// choose it. Non-confidential entries come back unchanged.
func (e Entry) Redacted() Entry {
	if !e.Confidential {
		return e
	}
	e.Address, e.Notes, e.Phone, e.Dial, e.Municipality = "", "", "", "", ""
	return e
}

// Check reports what keeps e from being stored: a Store refuses an entry
// that a directory file could not have produced, so that data written by
// other means (a test, a future API) obeys the same rules.
func (e Entry) Check() error {
	switch {
	case !IsCode(e.Code):
		return fmt.Errorf("directory: entry code %q: want four digits, 1000 to 9999", clip(e.Code))
	case strings.TrimSpace(e.Name) == "":
		return fmt.Errorf("directory: entry %s has no name", e.Code)
	case !e.Type.Valid():
		return fmt.Errorf("directory: entry %s has no valid type", e.Code)
	case e.Type == TypeShelter && !e.Confidential:
		return fmt.Errorf("directory: entry %s is a shelter and must be confidential", e.Code)
	case e.Dial == "" || digitsOnly(e.Dial) != e.Dial:
		return fmt.Errorf("directory: entry %s has no number to dial", e.Code)
	}
	p, ok := provinces().byCode[e.Province]
	if !ok {
		return fmt.Errorf("directory: entry %s: province %q: %w", e.Code, clip(e.Province), ErrUnknownProvince)
	}
	if e.Region != p.Region {
		return fmt.Errorf("directory: entry %s: region %q is not that of %s (%s)", e.Code, clip(e.Region), p.Code, p.Region)
	}
	return nil
}
