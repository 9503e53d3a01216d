package directory_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/helpline-it/helpline/directory"
	"github.com/helpline-it/helpline/directory/memory"
)

func ExampleParseHours() {
	h, err := directory.ParseHours("Lun-Ven 9.00-13.00, 14.00-18.00; sab 09:00-12:00")
	if err != nil {
		panic(err)
	}
	rome, _ := time.LoadLocation("Europe/Rome")
	sat := time.Date(2025, 6, 7, 12, 30, 0, 0, rome)
	next, _ := h.NextOpen(sat, rome)
	fmt.Println(h)
	fmt.Println(h.StateAt(sat, rome), "until", next.Format("Mon 15:04"))
	// Output:
	// lun-ven 09:00-13:00,14:00-18:00; sab 09:00-12:00
	// closed until Mon 09:00
}

func ExampleDirectory_Suggest() {
	const file = `nome;tipo;provincia;comune;telefono;orari;indirizzo
CAV Donne al Centro;centro antiviolenza;PD;Padova;049 555 0101;lun-ven 09:00-18:00;Via dei Tigli 12
Casa Rifugio Arcobaleno;casa rifugio;PD;Padova;049 555 0102;24/7;Via Nascosta 7
CAV Laguna;centro antiviolenza;VE;Venezia;041 555 0201;lun-ven 09:00-17:00;Calle Finta 10
CAV Tevere;centro antiviolenza;RM;Roma;06 5550 0301;24/7;Via di Prova 100
`
	ctx := context.Background()
	d := directory.New(memory.New())
	res, err := d.Import(ctx, strings.NewReader(file), directory.ImportOptions{})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%d inserted\n", res.Inserted)

	rome, _ := time.LoadLocation("Europe/Rome")
	sunday := time.Date(2025, 6, 8, 22, 0, 0, 0, rome)
	ss, err := d.Suggest(ctx, "PD", sunday, rome)
	if err != nil {
		panic(err)
	}
	for _, s := range ss {
		e := s.Entry.Redacted() // what a printout may show
		fmt.Printf("%-7s %-14s %-24s phone %q address %q\n", s.State, e.Type.Italian(), e.Name, e.Phone, e.Address)
	}
	// Output:
	// 4 inserted
	// open    casa rifugio   Casa Rifugio Arcobaleno  phone "" address ""
	// closed  centro antiviolenza CAV Donne al Centro      phone "049 555 0101" address "Via dei Tigli 12"
	// closed  centro antiviolenza CAV Laguna               phone "041 555 0201" address "Calle Finta 10"
}

func ExampleParseDialled() {
	for _, digits := range []string{"028", "4321", "0495550101"} {
		d, err := directory.ParseDialled(digits)
		if err != nil {
			panic(err)
		}
		switch d.Kind {
		case directory.DialledProvince:
			fmt.Println(digits, "→ suggest for", d.Province.Name)
		case directory.DialledEntry:
			fmt.Println(digits, "→ call entry", d.Code)
		case directory.DialledNumber:
			fmt.Println(digits, "→ dial", d.Number)
		}
	}
	// Output:
	// 028 → suggest for Padova
	// 4321 → call entry 4321
	// 0495550101 → dial 0495550101
}
