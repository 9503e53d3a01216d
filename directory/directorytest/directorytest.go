// Package directorytest holds the contract every directory.Store must
// meet, as one suite that each engine runs over itself (memory and
// SQLite), so that the CLI and the feature-code handler can rely on the
// behaviour documented on directory.Store whichever store they get.
package directorytest

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/helpline-it/helpline/directory"
)

// Entry returns a valid entry with code, of type cav in Padova unless
// changed by the caller.
func Entry(code, name string) directory.Entry {
	return directory.Entry{
		Code: code, Name: name, Type: directory.TypeCAV, Region: "Veneto", Province: "PD",
		Municipality: "Padova", Address: "Via di Prova 1", Phone: "049 555 0101", Dial: "0495550101",
		Hours: directory.MustParseHours("lun-ven 09:00-18:00"), Notes: "note", Confidential: false,
	}
}

// Shelter returns a valid, confidential shelter entry.
func Shelter(code, name string) directory.Entry {
	e := Entry(code, name)
	e.Type, e.Confidential, e.Hours = directory.TypeShelter, true, directory.AlwaysOpen()
	return e
}

// GoodFile is the path of the package's directory_good.csv fixture.
func GoodFile(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("directorytest: cannot find its own source file")
	}
	p := filepath.Join(filepath.Dir(file), "..", "testdata", "directory_good.csv")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("directorytest: %v", err)
	}
	return p
}

// RunStoreSuite runs the directory.Store contract against stores made by
// newStore, which must return an empty store and arrange its cleanup.
func RunStoreSuite(t *testing.T, newStore func(t *testing.T) directory.Store) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, s directory.Store)
	}{
		{"Empty", testEmpty},
		{"PutGetRoundTrip", testRoundTrip},
		{"PutReplaces", testReplace},
		{"ListOrderedByCode", testListOrder},
		{"RollbackOnError", testRollback},
		{"RefusesInvalid", testRefusesInvalid},
		{"Delete", testDelete},
		{"TxSeesOwnWrites", testTxSeesOwnWrites},
		{"ReadersSeeNoPartialUpdate", testIsolation},
		{"WaitingWriterHonoursContext", testWriterContext},
		{"ImportReimport", testImportReimport},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, newStore(t))
		})
	}
}

func put(t *testing.T, s directory.Store, es ...directory.Entry) {
	t.Helper()
	err := s.Update(t.Context(), func(ctx context.Context, tx directory.Tx) error {
		for _, e := range es {
			if err := tx.Put(ctx, e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Update(put %d): %v", len(es), err)
	}
}

func codes(t *testing.T, s directory.Store) string {
	t.Helper()
	es, err := s.List(t.Context())
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	var cs []string
	for _, e := range es {
		cs = append(cs, e.Code)
	}
	return strings.Join(cs, ",")
}

func testEmpty(t *testing.T, s directory.Store) {
	if got := codes(t, s); got != "" {
		t.Errorf("List on an empty store = %q", got)
	}
	if _, err := s.Get(t.Context(), "1234"); !errors.Is(err, directory.ErrNotFound) {
		t.Errorf("Get(1234) on an empty store: err = %v, want ErrNotFound", err)
	}
}

func testRoundTrip(t *testing.T, s directory.Store) {
	full := Entry("1234", "CAV Padova — Donne è al Centro")
	full.Hours = directory.MustParseHours("lun-ven 09:00-13:00,14:00-18:00; sab 09:00-12:00; dom 22:00-06:00")
	full.Notes = "riga uno\nriga due; \"virgolette\""
	shelter := Shelter("9999", "Casa rifugio")
	unknown := Entry("1000", "Sportello")
	unknown.Hours, unknown.Type, unknown.Municipality, unknown.Address, unknown.Notes = directory.Hours{}, directory.TypeOther, "", "", ""
	put(t, s, full, shelter, unknown)
	for _, want := range []directory.Entry{full, shelter, unknown} {
		got, err := s.Get(t.Context(), want.Code)
		if err != nil {
			t.Fatalf("Get(%s): %v", want.Code, err)
		}
		if !got.Equal(want) {
			t.Errorf("Get(%s):\n got %+v\nwant %+v", want.Code, got, want)
		}
		if got.Hours.String() != want.Hours.String() {
			t.Errorf("Get(%s) hours %q, want %q", want.Code, got.Hours, want.Hours)
		}
	}
}

func testReplace(t *testing.T, s directory.Store) {
	put(t, s, Entry("1234", "old"))
	e := Entry("1234", "new")
	e.Phone, e.Dial = "041 555 0202", "0415550202"
	put(t, s, e)
	got, err := s.Get(t.Context(), "1234")
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equal(e) {
		t.Errorf("after replace: %+v, want %+v", got, e)
	}
	if c := codes(t, s); c != "1234" {
		t.Errorf("codes = %q, want one entry", c)
	}
}

func testListOrder(t *testing.T, s directory.Store) {
	put(t, s, Entry("5000", "b"), Entry("1001", "c"), Entry("9998", "a"), Entry("2500", "d"))
	if got, want := codes(t, s), "1001,2500,5000,9998"; got != want {
		t.Errorf("List codes = %s, want %s", got, want)
	}
}

func testRollback(t *testing.T, s directory.Store) {
	put(t, s, Entry("1111", "kept"))
	boom := errors.New("boom")
	err := s.Update(t.Context(), func(ctx context.Context, tx directory.Tx) error {
		if err := tx.Put(ctx, Entry("2222", "new")); err != nil {
			return err
		}
		if err := tx.Delete(ctx, "1111"); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update returned %v, want fn's error", err)
	}
	if got := codes(t, s); got != "1111" {
		t.Errorf("after a failed Update codes = %q, want 1111 only", got)
	}
}

func testRefusesInvalid(t *testing.T, s directory.Store) {
	bad := map[string]directory.Entry{}
	e := Shelter("1234", "x")
	e.Confidential = false
	bad["shelter not confidential"] = e
	e = Entry("0123", "x")
	bad["code with a leading zero"] = e
	e = Entry("12345", "x")
	bad["five-digit code"] = e
	e = Entry("1234", "x")
	e.Province = "XX"
	bad["unknown province"] = e
	e = Entry("1234", "x")
	e.Region = "Lazio"
	bad["region not the province's"] = e
	e = Entry("1234", "x")
	e.Dial = "+39049"
	bad["dial with a plus"] = e
	e = Entry("1234", " ")
	bad["blank name"] = e
	for name, e := range bad {
		err := s.Update(t.Context(), func(ctx context.Context, tx directory.Tx) error {
			if err := tx.Put(ctx, Entry("7777", "fine")); err != nil {
				return err
			}
			return tx.Put(ctx, e)
		})
		if err == nil {
			t.Errorf("%s: Put accepted %+v", name, e)
		}
	}
	if got := codes(t, s); got != "" {
		t.Errorf("after refused Puts the store holds %q, want nothing (each Update rolled back)", got)
	}
}

func testDelete(t *testing.T, s directory.Store) {
	put(t, s, Entry("1111", "a"), Entry("2222", "b"))
	err := s.Update(t.Context(), func(ctx context.Context, tx directory.Tx) error { return tx.Delete(ctx, "1111") })
	if err != nil {
		t.Fatalf("Delete(1111): %v", err)
	}
	err = s.Update(t.Context(), func(ctx context.Context, tx directory.Tx) error { return tx.Delete(ctx, "3333") })
	if !errors.Is(err, directory.ErrNotFound) {
		t.Errorf("Delete(3333) = %v, want ErrNotFound", err)
	}
	if got := codes(t, s); got != "2222" {
		t.Errorf("codes = %q, want 2222", got)
	}
}

func testTxSeesOwnWrites(t *testing.T, s directory.Store) {
	put(t, s, Entry("1111", "a"))
	err := s.Update(t.Context(), func(ctx context.Context, tx directory.Tx) error {
		if err := tx.Put(ctx, Entry("2222", "b")); err != nil {
			return err
		}
		if err := tx.Delete(ctx, "1111"); err != nil {
			return err
		}
		es, err := tx.List(ctx)
		if err != nil {
			return err
		}
		if len(es) != 1 || es[0].Code != "2222" {
			t.Errorf("tx.List inside the Update = %+v, want only 2222", es)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// testIsolation holds an Update open after its writes and reads the store
// meanwhile: the reader must see the state before the Update.
func testIsolation(t *testing.T, s directory.Store) {
	put(t, s, Entry("1111", "a"))
	written, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s.Update(context.Background(), func(ctx context.Context, tx directory.Tx) error {
			if err := tx.Put(ctx, Entry("2222", "b")); err != nil {
				return err
			}
			if err := tx.Delete(ctx, "1111"); err != nil {
				return err
			}
			close(written)
			<-release
			return nil
		})
	}()
	select {
	case <-written:
	case err := <-done:
		t.Fatalf("Update ended early: %v", err)
	}
	if got := codes(t, s); got != "1111" {
		t.Errorf("during the Update a reader sees %q, want the state before it (1111)", got)
	}
	if _, err := s.Get(t.Context(), "2222"); !errors.Is(err, directory.ErrNotFound) {
		t.Errorf("during the Update Get(2222) = %v, want ErrNotFound", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := codes(t, s); got != "2222" {
		t.Errorf("after the Update a reader sees %q, want 2222", got)
	}
}

func testWriterContext(t *testing.T, s directory.Store) {
	entered, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s.Update(context.Background(), func(ctx context.Context, tx directory.Tx) error {
			close(entered)
			<-release
			return nil
		})
	}()
	<-entered
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := s.Update(ctx, func(ctx context.Context, tx directory.Tx) error {
		t.Error("a second Update ran while the first held the writer")
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Update with a cancelled context while another writes = %v, want context.Canceled", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func testImportReimport(t *testing.T, s directory.Store) {
	data, err := os.ReadFile(GoodFile(t))
	if err != nil {
		t.Fatal(err)
	}
	res, err := directory.Import(t.Context(), s, strings.NewReader(string(data)), directory.ImportOptions{})
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	if res.Inserted != res.Rows || res.Rows == 0 {
		t.Fatalf("first import: %d rows, %d inserted; want all inserted", res.Rows, res.Inserted)
	}
	before := codes(t, s)
	res, err = directory.Import(t.Context(), s, strings.NewReader(string(data)), directory.ImportOptions{})
	if err != nil {
		t.Fatalf("re-Import: %v", err)
	}
	if res.Unchanged != res.Rows || res.Inserted+res.Updated != 0 {
		t.Errorf("re-import of the same file: %+v; want every row unchanged", res)
	}
	if after := codes(t, s); after != before {
		t.Errorf("codes moved on re-import:\n%s\n%s", before, after)
	}
}
