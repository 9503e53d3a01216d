package directory_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/helpline-it/helpline/directory"
	"github.com/helpline-it/helpline/directory/memory"
)

func rome(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func goodDirectory(t *testing.T) *directory.Directory {
	t.Helper()
	s := memory.New()
	mustImport(t, s, "testdata/directory_good.csv", directory.ImportOptions{})
	return directory.New(s)
}

func describe(ss []directory.Suggestion, loc *time.Location) []string {
	var out []string
	for _, s := range ss {
		where := "region"
		if s.SameProvince {
			where = "province"
		}
		line := fmt.Sprintf("%s %s %s %s", where, s.State, s.Entry.Type, s.Entry.Name)
		if !s.NextOpen.IsZero() {
			line += " (opens " + s.NextOpen.In(loc).Format("Mon 15:04") + ")"
		}
		out = append(out, line)
	}
	return out
}

func TestSuggestOrder(t *testing.T) {
	d := goodDirectory(t)
	loc := rome(t)
	tests := []struct {
		at   time.Time
		want []string
	}{
		{time.Date(2025, 6, 4, 10, 30, 0, 0, loc), []string{ // a Wednesday morning
			"province open cav CAV Padova Donne al Centro",
			"province open shelter Casa Rifugio Arcobaleno",
			"province open police Questura di Padova - Squadra Mobile",
			"province open carabinieri Stazione Carabinieri Abano Terme",
			"province open health Pronto Soccorso Ospedale di Padova - percorso rosa",
			"province closed cav CAV Bassa Padovana (opens Thu 10:00)",
			"province closed legal Sportello legale Donne in Rete (opens Thu 15:00)",
			"region open cav CAV Marca Trevigiana",
			"region open cav CAV Venezia Centro Donna",
			"region open shelter Casa Rifugio Laguna",
			"region open social Servizi sociali Comune di Chioggia",
			"region unknown other Sportello donna Mirano",
		}},
		{time.Date(2025, 6, 4, 12, 30, 0, 0, loc), []string{ // the same day at 12:30
			"province open cav CAV Padova Donne al Centro",
			"province open shelter Casa Rifugio Arcobaleno",
			"province open police Questura di Padova - Squadra Mobile",
			"province open carabinieri Stazione Carabinieri Abano Terme",
			"province open health Pronto Soccorso Ospedale di Padova - percorso rosa",
			"province closed cav CAV Bassa Padovana (opens Thu 10:00)",
			"province closed legal Sportello legale Donne in Rete (opens Thu 15:00)",
			"region open cav CAV Venezia Centro Donna",
			"region open shelter Casa Rifugio Laguna",
			"region unknown other Sportello donna Mirano",
			"region closed cav CAV Marca Trevigiana (opens Thu 09:00)",
			"region closed social Servizi sociali Comune di Chioggia (opens Thu 08:30)",
		}},
		{time.Date(2025, 6, 7, 23, 0, 0, 0, time.UTC), []string{ // Sunday 01:00 in Rome
			"province open shelter Casa Rifugio Arcobaleno",
			"province open police Questura di Padova - Squadra Mobile",
			"province open carabinieri Stazione Carabinieri Abano Terme",
			"province open health Pronto Soccorso Ospedale di Padova - percorso rosa",
			"province closed cav CAV Padova Donne al Centro (opens Mon 09:00)",
			"province closed cav CAV Bassa Padovana (opens Tue 10:00)",
			"province closed legal Sportello legale Donne in Rete (opens Tue 15:00)",
			"region open shelter Casa Rifugio Laguna",
			"region unknown other Sportello donna Mirano",
			"region closed cav CAV Marca Trevigiana (opens Mon 09:00)",
			"region closed cav CAV Venezia Centro Donna (opens Mon 09:00)",
			"region closed social Servizi sociali Comune di Chioggia (opens Mon 08:30)",
		}},
	}
	for _, tt := range tests {
		for _, prov := range []string{"PD", "pd", "Padova", "028"} {
			ss, err := d.Suggest(t.Context(), prov, tt.at, loc)
			if err != nil {
				t.Fatal(err)
			}
			if got := describe(ss, loc); strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("Suggest(%s) at %s:\n%s\nwant:\n%s", prov, tt.at, strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		}
	}
}

func TestSuggestOtherRegionsAndErrors(t *testing.T) {
	d := goodDirectory(t)
	loc := rome(t)
	at := time.Date(2025, 6, 4, 10, 30, 0, 0, loc)
	ss, err := d.Suggest(t.Context(), "LT", at, loc) // Latina: no entries, Rome's region
	if err != nil {
		t.Fatal(err)
	}
	got := describe(ss, loc)
	want := []string{
		"region open cav CAV Roma Rete Donne Tiburtina",
		"region open shelter Casa rifugio Aurora",
		"region open health Consultorio familiare Ostia",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("Suggest(LT):\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if ss, err := d.Suggest(t.Context(), "AO", at, loc); err != nil || len(ss) != 0 {
		t.Errorf("Suggest(AO) = %v, %v; want nothing", ss, err)
	}
	if _, err := d.Suggest(t.Context(), "XX", at, loc); !errors.Is(err, directory.ErrUnknownProvince) {
		t.Errorf("Suggest(XX) = %v, want ErrUnknownProvince", err)
	}
	// Suggest hands the handler the full entry, to dial.
	for _, s := range ss {
		if s.Entry.Dial == "" {
			t.Errorf("suggestion %s without its number", s.Entry.Code)
		}
	}
}

func names(es []directory.Entry) string {
	var n []string
	for _, e := range es {
		n = append(n, e.Name)
	}
	return strings.Join(n, "|")
}

func TestSearchHidesConfidential(t *testing.T) {
	d := goodDirectory(t)
	all, err := d.List(t.Context(), false)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 18 {
		t.Fatalf("List = %d entries, want 18 (confidential ones listed, redacted)", len(all))
	}
	for _, e := range all {
		if e.Confidential && (e.Address != "" || e.Notes != "" || e.Phone != "" || e.Dial != "" || e.Municipality != "") {
			t.Errorf("List shows a confidential entry's details: %+v", e)
		}
		if !e.Confidential && e.Phone == "" {
			t.Errorf("List hides a public entry's phone: %+v", e)
		}
		if e.Code == "" || e.Name == "" || e.Province == "" {
			t.Errorf("List lost what a printout needs: %+v", e)
		}
	}
	tests := []struct {
		q    directory.Query
		want string
	}{
		{directory.Query{Text: "arcobaleno"}, "Casa Rifugio Arcobaleno"},
		{directory.Query{Text: "Via Nascosta"}, ""}, // the shelter's address
		{directory.Query{Text: "049 555 0102"}, ""}, // the shelter's phone
		{directory.Query{Text: "tramite cav"}, ""},  // the shelter's notes
		{directory.Query{Text: "rifugio", Province: "VE"}, "Casa Rifugio Laguna"},
		{directory.Query{Text: "Via Nascosta", Confidential: true}, "Casa Rifugio Arcobaleno"},
		{directory.Query{Text: "049 555 0102", Confidential: true}, "Casa Rifugio Arcobaleno"},
		{directory.Query{Text: "tigli"}, "CAV Padova Donne al Centro"}, // a public address
		{directory.Query{Text: "padova cav"}, "CAV Padova Donne al Centro|CAV Bassa Padovana"},
		{directory.Query{Type: directory.TypeShelter}, "Casa Rifugio Arcobaleno|Casa Rifugio Laguna|Casa rifugio Aurora"},
		{directory.Query{Region: "lombardia", Type: directory.TypeCarabinieri}, "Comando Provinciale Carabinieri Milano"},
		{directory.Query{Text: "inglese"}, "Consultorio familiare Ostia"},
		{directory.Query{Text: "reperibilita"}, "Associazione Donne Sesto - sportello serale"},
	}
	for _, tt := range tests {
		got, err := d.Search(t.Context(), tt.q)
		if err != nil {
			t.Fatalf("Search(%+v): %v", tt.q, err)
		}
		if n := names(got); !sameSet(n, tt.want) {
			t.Errorf("Search(%+v) = %q, want %q", tt.q, n, tt.want)
		}
		for _, e := range got {
			if !tt.q.Confidential && e.Confidential && e.Address != "" {
				t.Errorf("Search(%+v) shows a shelter's address", tt.q)
			}
			if tt.q.Confidential && e.Confidential && e.Address == "" {
				t.Errorf("Search(%+v) with Confidential hid the address", tt.q)
			}
		}
	}
	if _, err := d.Search(t.Context(), directory.Query{Province: "ZZ"}); !errors.Is(err, directory.ErrUnknownProvince) {
		t.Errorf("Search(ZZ) = %v", err)
	}
	if _, err := d.Search(t.Context(), directory.Query{Region: "Atlantide"}); err == nil {
		t.Error("Search(region Atlantide) accepted")
	}
}

func sameSet(a, b string) bool {
	as, bs := strings.Split(a, "|"), strings.Split(b, "|")
	if len(as) != len(bs) {
		return false
	}
	m := map[string]int{}
	for _, x := range as {
		m[x]++
	}
	for _, x := range bs {
		if m[x]--; m[x] < 0 {
			return false
		}
	}
	return true
}
