package directory_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/helpline-it/helpline/directory"
	"github.com/helpline-it/helpline/directory/memory"
)

// bigFile is a directory the size of the national network and more:
// n services spread over every province.
func bigFile(n int) string {
	var b strings.Builder
	b.WriteString("name;type;province;municipality;phone;hours;notes\n")
	provs := directory.Provinces()
	types := directory.Types()
	hours := []string{"24/7", "lun-ven 09:00-18:00", "lun,mer,ven 10:00-13:00; sab 09:00-12:00", ""}
	for i := range n {
		p := provs[i%len(provs)]
		fmt.Fprintf(&b, "Servizio %d;%s;%s;%s;06 5550 %04d;\"%s\";note %d\n", i, types[i%len(types)], p.Code, p.Name, i%10000, hours[i%len(hours)], i)
	}
	return b.String()
}

func BenchmarkImport3000(b *testing.B) {
	file := bigFile(3000)
	for b.Loop() {
		if _, err := directory.Import(b.Context(), memory.New(), strings.NewReader(file), directory.ImportOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSuggest3000(b *testing.B) {
	s := memory.New()
	if _, err := directory.Import(b.Context(), s, strings.NewReader(bigFile(3000)), directory.ImportOptions{}); err != nil {
		b.Fatal(err)
	}
	d := directory.New(s)
	loc, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		b.Fatal(err)
	}
	at := time.Date(2025, 6, 4, 10, 30, 0, 0, loc)
	for b.Loop() {
		if _, err := d.Suggest(b.Context(), "PD", at, loc); err != nil {
			b.Fatal(err)
		}
	}
}
