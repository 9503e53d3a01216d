package directory_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/helpline-it/helpline/directory"
	"github.com/helpline-it/helpline/directory/memory"
)

func importFile(t *testing.T, s directory.Store, name string, opts directory.ImportOptions) (directory.ImportResult, error) {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return directory.Import(t.Context(), s, f, opts)
}

func mustImport(t *testing.T, s directory.Store, name string, opts directory.ImportOptions) directory.ImportResult {
	t.Helper()
	res, err := importFile(t, s, name, opts)
	if err != nil {
		t.Fatalf("Import(%s): %v", name, err)
	}
	return res
}

func list(t *testing.T, s directory.Store) []directory.Entry {
	t.Helper()
	es, err := s.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return es
}

func byName(es []directory.Entry) map[string]directory.Entry {
	m := map[string]directory.Entry{}
	for _, e := range es {
		m[e.Name] = e
	}
	return m
}

func TestImportGood(t *testing.T) {
	s := memory.New()
	res := mustImport(t, s, "testdata/directory_good.csv", directory.ImportOptions{})
	if res.Rows != 18 || res.Inserted != 18 || res.Updated+res.Unchanged+res.Missing != 0 {
		t.Errorf("result = %+v, want 18 rows inserted", res)
	}
	es := list(t, s)
	if len(es) != 18 {
		t.Fatalf("%d entries stored, want 18", len(es))
	}
	if len(res.Entries) != 18 || res.Entries[0].Name != "CAV Padova Donne al Centro" || !directory.IsCode(res.Entries[0].Code) {
		t.Errorf("result entries start %+v", res.Entries[0])
	}
}

// TestImportBadImportsNothing: three bad rows reported with line and
// column; the two good rows are not stored either.
func TestImportBadImportsNothing(t *testing.T) {
	s := memory.New()
	mustImport(t, s, "testdata/directory_italian.csv", directory.ImportOptions{})
	before := list(t, s)
	res, err := importFile(t, s, "testdata/directory_bad.csv", directory.ImportOptions{})
	if !errors.Is(err, directory.ErrBadRows) {
		t.Fatalf("err = %v, want ErrBadRows", err)
	}
	if res.BadRows != 3 || res.ProblemCount != 3 || len(res.Problems) != 3 || res.Rows != 5 {
		t.Errorf("result = %+v; want 3 bad rows of 5", res)
	}
	want := map[int]string{3: "phone", 4: "province", 5: "hours"}
	for _, p := range res.Problems {
		if want[p.Line] != p.Column {
			t.Errorf("problem %d %q: %v", p.Line, p.Column, p)
		}
	}
	if after := list(t, s); len(after) != len(before) {
		t.Errorf("a bad file changed the store: %d entries, want %d", len(after), len(before))
	}
	if res.Inserted+res.Updated+res.Unchanged != 0 {
		t.Errorf("counts on a bad file: %+v", res)
	}
}

func TestImportMaxListed(t *testing.T) {
	var b strings.Builder
	b.WriteString("name;type;province;phone\n")
	for range 30 {
		b.WriteString("A;cav;PD;abc\n")
	}
	res, err := directory.Import(t.Context(), memory.New(), strings.NewReader(b.String()), directory.ImportOptions{MaxListed: 5})
	if !errors.Is(err, directory.ErrBadRows) || len(res.Problems) != 5 || res.ProblemCount != 30 || res.BadRows != 30 {
		t.Errorf("err %v, %d listed of %d problems in %d rows; want 5 of 30 in 30", err, len(res.Problems), res.ProblemCount, res.BadRows)
	}
	if !strings.Contains(err.Error(), "30 problems in 30 rows; nothing imported") {
		t.Errorf("err = %v", err)
	}
}

// TestReimport: a changed phone updates its entry under the same code;
// unchanged rows stay; rows missing from the file are kept unless pruned.
func TestReimport(t *testing.T) {
	s := memory.New()
	mustImport(t, s, "testdata/directory_good.csv", directory.ImportOptions{})
	was := byName(list(t, s))

	res := mustImport(t, s, "testdata/directory_changed.csv", directory.ImportOptions{})
	if res.Rows != 3 || res.Inserted != 0 || res.Updated != 1 || res.Unchanged != 2 || res.Missing != 15 || res.Pruned != 0 {
		t.Errorf("re-import = %+v; want 1 updated, 2 unchanged (hours written differently), 15 missing kept", res)
	}
	now := byName(list(t, s))
	if len(now) != 18 {
		t.Errorf("%d entries after re-import, want the 18 kept", len(now))
	}
	cav := now["CAV Padova Donne al Centro"]
	if cav.Code != was[cav.Name].Code || cav.Phone != "049 555 0199" || cav.Dial != "0495550199" {
		t.Errorf("updated entry = %+v; want code %s with the new phone", cav, was[cav.Name].Code)
	}
	for name, e := range was {
		if now[name].Code != e.Code {
			t.Errorf("%s moved from %s to %s", name, e.Code, now[name].Code)
		}
	}

	dry := mustImport(t, s, "testdata/directory_changed.csv", directory.ImportOptions{Prune: true, DryRun: true})
	if dry.Missing != 15 || dry.Pruned != 15 || len(list(t, s)) != 18 {
		t.Errorf("dry run with prune = %+v and %d entries; want 15 counted, none deleted", dry, len(list(t, s)))
	}
	res = mustImport(t, s, "testdata/directory_changed.csv", directory.ImportOptions{Prune: true})
	if res.Unchanged != 3 || res.Pruned != 15 || len(list(t, s)) != 3 {
		t.Errorf("prune = %+v, %d entries left; want 3", res, len(list(t, s)))
	}
	// A pruned service coming back gets a code no kept entry has.
	res = mustImport(t, s, "testdata/directory_good.csv", directory.ImportOptions{})
	if res.Inserted != 15 || res.Updated != 1 {
		t.Errorf("good file again = %+v; want 15 inserted and the phone changed back", res)
	}
}

func TestImportDryRunStoresNothing(t *testing.T) {
	s := memory.New()
	res := mustImport(t, s, "testdata/directory_good.csv", directory.ImportOptions{DryRun: true})
	if res.Inserted != 18 || len(list(t, s)) != 0 {
		t.Errorf("dry run: %+v, %d stored; want 18 counted, 0 stored", res, len(list(t, s)))
	}
}

func TestImportExplicitCodes(t *testing.T) {
	s := memory.New()
	mustImport(t, s, "testdata/directory_italian.csv", directory.ImportOptions{})
	e, err := directory.New(s).Lookup(t.Context(), "2001")
	if err != nil || e.Name != "CAV Padova Donne al Centro" {
		t.Errorf("Lookup(2001) = %+v, %v", e, err)
	}
	if _, err := directory.New(s).Lookup(t.Context(), "9x"); !errors.Is(err, directory.ErrNotFound) {
		t.Errorf("Lookup(9x) = %v, want ErrNotFound", err)
	}
}
