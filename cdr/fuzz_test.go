package cdr_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/helpline-it/helpline/cdr"
)

var digitRun = regexp.MustCompile(`[0-9]{5,}`)

// FuzzNeutralLine feeds single lines to the decoder. The corpus in
// testdata/fuzz/FuzzNeutralLine holds the first lines of the seed quarter
// (numbers replaced by made-up ones) and broken variants; the lines of
// testdata/*.jsonl are added here. Properties:
//   - it never panics;
//   - a decoded record passes Validate and CheckStorable, and survives
//     export and re-import unchanged (at store precision);
//   - an error has code EINVALID and never repeats the number given as
//     caller or callee.
func FuzzNeutralLine(f *testing.F) {
	for _, name := range []string{"testdata/sample.jsonl", "testdata/three-bad.jsonl"} {
		file, err := os.Open(name)
		if err != nil {
			f.Fatal(err)
		}
		sc := bufio.NewScanner(file)
		for sc.Scan() {
			f.Add(append([]byte(nil), sc.Bytes()...))
		}
		file.Close()
	}
	h := hasher(f)
	f.Fuzz(func(t *testing.T, line []byte) {
		rec, err := cdr.DecodeNeutral(line, h)
		if err != nil {
			if cdr.ErrorCode(err) != cdr.EINVALID {
				t.Fatalf("error %v has code %q, want invalid", err, cdr.ErrorCode(err))
			}
			var raw map[string]any
			if json.Unmarshal(line, &raw) == nil {
				for _, k := range []string{"caller", "callee"} {
					s, _ := raw[k].(string)
					for _, run := range digitRun.FindAllString(s, -1) {
						if strings.Contains(err.Error(), run) {
							t.Fatalf("error %q repeats digits %s of the %s", err, run, k)
						}
					}
				}
			}
			return
		}
		if err := rec.Validate(); err != nil {
			t.Fatalf("decoded record fails Validate: %v\n%+v", err, rec)
		}
		if err := rec.CheckStorable(); err != nil {
			t.Fatalf("decoded record fails CheckStorable: %v", err)
		}
		var buf bytes.Buffer
		w := cdr.NewNeutralWriter(&buf)
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
		w.Flush()
		back, err := cdr.DecodeNeutral(bytes.TrimSpace(buf.Bytes()), h)
		if err != nil {
			t.Fatalf("export of a decoded record does not decode: %v\n%s", err, buf.Bytes())
		}
		if want := rec.Canonical(); back != want {
			t.Fatalf("round trip changed the record:\n got %+v\nwant %+v", back, want)
		}
	})
}
