package cdr_test

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/helpline-it/helpline/callerid"
	"github.com/helpline-it/helpline/cdr"
	"github.com/helpline-it/helpline/cdr/memory"
)

func ExampleDecodeNeutral() {
	h, _ := callerid.NewHasher([]byte("example-key-not-a-secret"))
	rec, err := cdr.DecodeNeutral([]byte(`{"id":"in-1","direction":"inbound","arrived_at":"2025-06-02T08:00:00Z",`+
		`"outcome":"welcome_hangup","caller":"+39 333 000 0101","ended_at":"2025-06-02T08:00:09Z"}`), h)
	fmt.Println(rec.Outcome, rec.Withheld, len(rec.CallerHash), err)

	_, err = cdr.DecodeNeutral([]byte(`{"id":"in-2","direction":"inbound","arrived_at":"2025-06-02T08:00:00Z",`+
		`"outcome":"answered","caller":"+393330000101","ended_at":"2025-06-02T08:06:00Z"}`), h)
	fmt.Println(err)
	// Output:
	// welcome_hangup false 64 <nil>
	// missing queued_at (answered calls were queued); missing language (answered calls were queued); missing connected_at (answered); missing operator (answered)
}

func ExampleImport() {
	h, _ := callerid.NewHasher([]byte("example-key-not-a-secret"))
	file := `{"id":"out-1","direction":"outbound","arrived_at":"2025-06-02T09:00:00Z","outcome":"busy","operator":"op1","callee":"+390612345678","ended_at":"2025-06-02T09:00:05Z"}
{"id":"out-2","direction":"outbound","arrived_at":"2025-06-02T09:10:00Z","outcome":"engaged"}
`
	store := memory.New()
	res, err := cdr.Import(context.Background(), store, strings.NewReader(file), h, cdr.ImportOptions{})
	for _, bad := range res.Bad {
		fmt.Println(bad)
	}
	fmt.Println(err)

	res, _ = cdr.Import(context.Background(), store, strings.NewReader(strings.SplitAfter(file, "\n")[0]), h, cdr.ImportOptions{})
	fmt.Println(res.Inserted, "new")

	w := cdr.NewNeutralWriter(os.Stdout)
	store.Scan(context.Background(), cdr.Filter{}, func(r *cdr.Record) error {
		r.CalleeHash = r.CalleeHash[:8] + "…" // shortened for the example
		return w.Write(*r)
	})
	w.Flush()
	// Output:
	// line 2: unknown outbound outcome "engaged"; missing ended_at; missing callee; missing operator (outbound calls are placed by an operator)
	// cdr: 1 bad line of 2; nothing imported: the file has bad lines
	// 1 new
	// {"id":"out-1","direction":"outbound","arrived_at":"2025-06-02T09:00:00Z","outcome":"busy","ended_at":"2025-06-02T09:00:05Z","operator":"op1","callee_hash":"f99a2617…"}
}
