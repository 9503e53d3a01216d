package directory

import "testing"

func TestProvinceTable(t *testing.T) {
	ps := Provinces()
	if len(ps) != 107 {
		t.Fatalf("%d provinces, want 107", len(ps))
	}
	codes, dials := map[string]bool{}, map[string]bool{}
	for _, p := range ps {
		if len(p.Code) != 2 || len(p.DialCode) != 3 || p.Name == "" {
			t.Errorf("malformed province %+v", p)
		}
		if codes[p.Code] || dials[p.DialCode] {
			t.Errorf("duplicate province %+v", p)
		}
		codes[p.Code], dials[p.DialCode] = true, true
		if r, ok := LookupRegion(p.Region); !ok || r != p.Region {
			t.Errorf("province %s: region %q does not look itself up", p.Code, p.Region)
		}
	}
	if n := len(Regions()); n != 20 {
		t.Errorf("%d regions, want 20: %v", n, Regions())
	}
}

func TestLookupProvince(t *testing.T) {
	tests := []struct{ in, want string }{
		{"PD", "PD"}, {"pd", "PD"}, {" Pd ", "PD"}, {"Padova", "PD"}, {"PADOVA", "PD"},
		{"028", "PD"}, {"058", "RM"}, {"015", "MI"}, {"027", "VE"},
		{"Forlì-Cesena", "FC"}, {"forli cesena", "FC"}, {"Reggio nell'Emilia", "RE"},
		{"L'Aquila", "AQ"}, {"Monza e della Brianza", "MB"}, {"Bolzano/Bozen", "BZ"},
		{"XX", ""}, {"", ""}, {"28", ""}, {"Padua", ""},
	}
	for _, tt := range tests {
		p, ok := LookupProvince(tt.in)
		if got := map[bool]string{true: p.Code}[ok]; got != tt.want {
			t.Errorf("LookupProvince(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if p, _ := LookupProvince("PD"); p.Region != "Veneto" || p.Name != "Padova" || p.DialCode != "028" {
		t.Errorf("PD = %+v", p)
	}
}

func TestLookupRegion(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Veneto", "Veneto"}, {"emilia romagna", "Emilia-Romagna"}, {"Emilia-Romagna", "Emilia-Romagna"},
		{"Friuli Venezia Giulia", "Friuli-Venezia Giulia"}, {"FVG", "Friuli-Venezia Giulia"},
		{"Valle d'Aosta/Vallée d'Aoste", "Valle d'Aosta"}, {"Trentino-Alto Adige/Südtirol", "Trentino-Alto Adige"},
		{"Padania", ""},
	}
	for _, tt := range tests {
		r, ok := LookupRegion(tt.in)
		if got := map[bool]string{true: r}[ok]; got != tt.want {
			t.Errorf("LookupRegion(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParsePhone(t *testing.T) {
	tests := []struct{ in, dial string }{
		{"049 555 0101", "0495550101"},
		{"+39 049 555 0101", "0495550101"},
		{"0039 06 5550 0301", "0655500301"},
		{"06/5550.0301", "0655500301"},
		{"333 555 0402", "3335550402"},
		{"800 555 123", "800555123"},
		{"112", "112"},
		{"1522", "1522"},
		{"+44 20 7946 0000", "00442079460000"},
		{"abc", ""},
		{"", ""},
		{"0495", ""},
		{"555", ""},
		{"049 555 0101 int. 23", ""},
		{"049 555 0101 049 555 0102 049 555 0103", ""},
	}
	for _, tt := range tests {
		dial, err := ParsePhone(tt.in)
		if tt.dial == "" {
			if err == nil {
				t.Errorf("ParsePhone(%q) = %q, want an error", tt.in, dial)
			}
			continue
		}
		if err != nil || dial != tt.dial {
			t.Errorf("ParsePhone(%q) = %q, %v; want %q", tt.in, dial, err, tt.dial)
		}
	}
}

func TestParseType(t *testing.T) {
	tests := []struct {
		in   string
		want Type
	}{
		{"cav", TypeCAV}, {"Centro Antiviolenza", TypeCAV}, {"centro anti-violenza", TypeCAV},
		{"Casa Rifugio", TypeShelter}, {"casa-rifugio", TypeShelter}, {"shelter", TypeShelter},
		{"Questura", TypePolice}, {"Carabinieri", TypeCarabinieri}, {"Pronto soccorso", TypeHealth},
		{"sanità", TypeHealth}, {"Sportello legale", TypeLegal}, {"Servizi sociali", TypeSocial}, {"altro", TypeOther},
	}
	for _, tt := range tests {
		if got, err := ParseType(tt.in); err != nil || got != tt.want {
			t.Errorf("ParseType(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	if _, err := ParseType("bakery"); err == nil {
		t.Error("ParseType(bakery) accepted")
	}
	for _, ty := range Types() {
		if got, err := ParseType(ty.String()); err != nil || got != ty {
			t.Errorf("%v does not round-trip: %v %v", ty, got, err)
		}
		if got, err := ParseType(ty.Italian()); err != nil || got != ty {
			t.Errorf("Italian label %q does not parse back: %v %v", ty.Italian(), got, err)
		}
	}
}
