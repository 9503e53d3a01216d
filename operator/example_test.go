package operator_test

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/helpline-it/helpline/directory"
	"github.com/helpline-it/helpline/directory/memory"
	"github.com/helpline-it/helpline/ivr"
	"github.com/helpline-it/helpline/operator"
)

// How a call to a service that was not answered is counted in its CDR.
func ExampleOutcome() {
	for _, cause := range []int{17, 34, 19, 21, 1, 0} {
		f := ivr.FailureOf(cause)
		fmt.Printf("cause %2d: %-10s → %s\n", cause, f, operator.Outcome(f))
	}
	// Output:
	// cause 17: busy       → busy
	// cause 34: congestion → busy
	// cause 19: no_answer  → no_answer
	// cause 21: rejected   → no_answer
	// cause  1: failed     → failed
	// cause  0: failed     → failed
}

// The directory behind *20<code>: only an entry's code is a target.
func ExampleFromDirectory() {
	ctx := context.Background()
	d := directory.New(memory.New())
	const file = "nome;tipo;provincia;comune;telefono;orari;indirizzo\n" +
		"CAV Donne al Centro;centro antiviolenza;PD;Padova;049 555 0101;lun-ven 09:00-18:00;Via dei Tigli 12\n"
	if _, err := d.Import(ctx, strings.NewReader(file), directory.ImportOptions{}); err != nil {
		panic(err)
	}
	entries, _ := d.List(ctx, false)
	dir := operator.FromDirectory(d)
	tg, err := dir.Lookup(ctx, entries[0].Code)
	fmt.Println(tg.Name, tg.Dial, err)
	_, err = dir.Lookup(ctx, "028") // a province's number: not a target
	fmt.Println(errors.Is(err, operator.ErrUnknownTarget))
	// Output:
	// CAV Donne al Centro 0495550101 <nil>
	// true
}
