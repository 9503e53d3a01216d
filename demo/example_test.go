package demo_test

import (
	"fmt"
	"time"

	"github.com/helpline-it/helpline/demo"
)

// The seed report's weekday × hour table as arrival rates.
func ExampleSeedProfile() {
	p := demo.SeedProfile()
	fmt.Printf("Monday 10:00: %.1f calls an hour\n", p[0][10])
	fmt.Printf("Tuesday 4:00: %.1f calls an hour\n", p[1][4])
	fmt.Printf("week: %.1f calls an hour on average\n", p.Mean())
	// Output:
	// Monday 10:00: 29.1 calls an hour
	// Tuesday 4:00: 2.4 calls an hour
	// week: 15.7 calls an hour on average
}

// A scenario is checked before anything runs; the error names the field.
func ExampleScenario_Validate() {
	rome, _ := time.LoadLocation("Europe/Rome")
	s := demo.DefaultScenario(time.Date(2025, 7, 21, 8, 0, 0, 0, rome), 8*time.Hour, rome, 1)
	fmt.Println(s.Validate())
	s.Callers.Patience = 0
	fmt.Println(s.Validate())
	// Output:
	// <nil>
	// demo: bad scenario: Callers.Patience: 0s, want a positive mean
}
