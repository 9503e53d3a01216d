package chaos

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/helpline-it/helpline/cdr"
)

// needles are what must never be at rest: each caller's raw number and
// its digits without the country prefix.
func (w *world) needles() map[string]*caller {
	out := map[string]*caller{}
	for _, c := range w.callers {
		out[c.number] = c
		out[c.national()] = c
	}
	return out
}

// hit is one raw number found somewhere.
type hit struct {
	where  string
	needle string
}

// scan reports which needles occur in b.
func scan(where string, b []byte, needles map[string]*caller) []hit {
	var hits []hit
	for n := range needles {
		if bytes.Contains(b, []byte(n)) {
			hits = append(hits, hit{where: where, needle: n})
		}
	}
	return hits
}

// privacyScan looks for every caller's number in everything the run left
// at rest: the Redis dump (SAVE, uncompressed) and every key's value, the
// SQLite files, the spool, the recordings (names and bytes, as Asterisk
// stores them) and every log line serve wrote.
func (w *world) privacyScan(t *testing.T) {
	needles := w.needles()
	if len(needles) == 0 {
		t.Fatal("no callers: nothing to look for")
	}
	var hits []hit
	scanned := 0
	// A planted number proves the walk reaches the files it claims to
	// scan: it must be found, once, where it was planted.
	canary := &caller{number: "+393339999999"}
	needles[canary.number] = canary
	planted := filepath.Join(w.dir, "data", "planted-canary.log")
	if err := os.WriteFile(planted, []byte(`{"caller":"`+canary.number+`"}`), 0o600); err != nil {
		t.Fatal(err)
	}

	// Redis: an uncompressed RDB (LZF could hide a number), then the
	// values themselves.
	ctx, cancel := context.WithTimeout(w.ctx, 30*time.Second)
	defer cancel()
	if err := w.rdb.ConfigSet(ctx, "rdbcompression", "no").Err(); err != nil {
		t.Errorf("redis CONFIG SET rdbcompression no: %v", err)
	}
	if err := w.rdb.Save(ctx).Err(); err != nil {
		t.Errorf("redis SAVE: %v", err)
	}
	rdb := filepath.Join(w.redis.Dir, "dump.rdb")
	if _, err := os.Stat(rdb); err != nil {
		t.Errorf("no RDB after SAVE: %v", err)
	}
	values, nkeys, err := w.redisValues(ctx)
	if err != nil {
		t.Errorf("reading Redis: %v", err)
	}
	hits = append(hits, scan("redis values", values, needles)...)
	t.Logf("redis: %d keys, %d bytes of values", nkeys, len(values))

	// Every file at rest: data (SQLite, spool, recordings dir), logs,
	// configuration, and Redis's directory.
	for _, root := range []string{w.dir, w.redis.Dir} {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				return nil
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			scanned++
			hits = append(hits, scan(path, b, needles)...)
			return nil
		})
		if err != nil {
			t.Errorf("walking %s: %v", root, err)
		}
	}

	// Recordings, where Asterisk keeps them.
	nrec, err := w.scanRecordings(ctx, needles, &hits)
	if err != nil {
		t.Errorf("reading the recordings: %v", err)
	}
	t.Logf("scanned %d files and %d recordings for %d numbers", scanned, nrec, len(w.callers))
	if nrec == 0 {
		t.Error("no recording at all: the voicemail callers left none, the scan of recordings proves nothing")
	}
	leaked := map[string]bool{}
	found := 0
	for _, h := range hits {
		if needles[h.needle] == canary {
			if h.where != planted {
				t.Errorf("the planted number turned up in %s", h.where)
			}
			found++
			continue
		}
		leaked[needles[h.needle].number] = true
		t.Errorf("RAW NUMBER AT REST: %q in %s", h.needle, h.where)
	}
	w.leaked = len(leaked)
	if found != 1 {
		t.Errorf("the planted number was found %d times, want once in %s: the scan does not see what it claims", found, planted)
	}
	if err := os.Remove(planted); err != nil {
		t.Error(err)
	}
}

// redisValues returns every key and value in Redis as text.
func (w *world) redisValues(ctx context.Context) ([]byte, int, error) {
	var buf bytes.Buffer
	n := 0
	iter := w.rdb.Scan(ctx, 0, "*", 500).Iterator()
	for iter.Next(ctx) {
		k := iter.Val()
		n++
		fmt.Fprintf(&buf, "%s\n", k)
		typ, err := w.rdb.Type(ctx, k).Result()
		if err != nil {
			return nil, n, err
		}
		var v any
		switch typ {
		case "string":
			v, err = w.rdb.Get(ctx, k).Result()
		case "hash":
			v, err = w.rdb.HGetAll(ctx, k).Result()
		case "list":
			v, err = w.rdb.LRange(ctx, k, 0, -1).Result()
		case "set":
			v, err = w.rdb.SMembers(ctx, k).Result()
		case "zset":
			v, err = w.rdb.ZRangeWithScores(ctx, k, 0, -1).Result()
		case "stream":
			v, err = w.rdb.XRange(ctx, k, "-", "+").Result()
		default:
			v = "(type " + typ + ")"
		}
		if err != nil {
			return nil, n, fmt.Errorf("%s %s: %w", typ, k, err)
		}
		fmt.Fprintf(&buf, "%v\n", v)
	}
	return buf.Bytes(), n, iter.Err()
}

// scanRecordings lists the stored recordings over ARI and scans their
// names and bytes.
func (w *world) scanRecordings(ctx context.Context, needles map[string]*caller, hits *[]hit) (int, error) {
	get := func(path string) ([]byte, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, w.srv.URL+"/ari"+path, nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", w.srv.BasicAuth())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("GET %s: %d %s", path, resp.StatusCode, b)
		}
		return b, nil
	}
	list, err := get("/recordings/stored")
	if err != nil {
		return 0, err
	}
	*hits = append(*hits, scan("recordings list", list, needles)...)
	var stored []struct {
		Name string `json:"name"`
	}
	if err := json.Unmarshal(list, &stored); err != nil {
		return 0, fmt.Errorf("recordings list: %w", err)
	}
	for _, r := range stored {
		b, err := get("/recordings/stored/" + url.PathEscape(r.Name) + "/file")
		if err != nil {
			return 0, err
		}
		*hits = append(*hits, scan("recording "+r.Name, b, needles)...)
	}
	return len(stored), nil
}

// finishes counts, per call id, the "call over" lines of every serve
// process: a call finished by two processes would be counted twice in
// the report even where the store kept one row.
func (w *world) finishes(t *testing.T) map[string]int {
	t.Helper()
	out := map[string]int{}
	paths, _ := filepath.Glob(filepath.Join(w.logDir, "serve-*.log"))
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			t.Errorf("reading %s: %v", p, err)
			continue
		}
		s := bufio.NewScanner(f)
		s.Buffer(make([]byte, 1<<20), 1<<20)
		for s.Scan() {
			var l struct {
				Message string `json:"message"`
				Call    string `json:"call"`
			}
			if json.Unmarshal(s.Bytes(), &l) == nil && l.Message == "call over" && l.Call != "" {
				out[l.Call]++
			}
		}
		f.Close()
	}
	return out
}

// summary is the suite's result line.
type summary struct {
	calls, faults, cdrs, lost, duplicated, leaked int
	inconsistent, unserved, cutByUs, extra, stuck int
	phases                                        string
}

func (s summary) String() string {
	return fmt.Sprintf("chaos: calls=%d faults=%d cdrs=%d lost=%d duplicated=%d leaked=%d inconsistent=%d cut_by_us=%d stuck=%d unserved=%d (%s)",
		s.calls, s.faults, s.cdrs, s.lost, s.duplicated, s.leaked, s.inconsistent, s.cutByUs, s.stuck, s.unserved, s.phases)
}

// summary counts, over the whole run, what the issue asks for.
func (w *world) summary(t *testing.T) summary {
	t.Helper()
	recs := w.records(t)
	fin := w.finishes(t)
	in := w.stasisEntered()
	s := summary{faults: len(w.faults), leaked: w.leaked}
	ids := map[string]bool{}
	phases := map[string]int{}
	var order []string
	for _, c := range w.callers {
		if c.call == nil {
			continue
		}
		s.calls++
		if phases[c.phase] == 0 {
			order = append(order, c.phase)
		}
		phases[c.phase]++
		id := c.call.ChannelID()
		ids[id] = true
		n := len(recs[id])
		s.cdrs += n
		switch {
		case n == 0:
			s.lost++
		case n > 1 || fin[id] > 1:
			s.duplicated++
		}
		for _, p := range judge(w, c, recs, in) {
			switch {
			case strings.HasPrefix(p, "STUCK"):
				s.stuck++
			case strings.HasPrefix(p, "UNSERVED"):
				s.unserved++
			case strings.HasPrefix(p, "hung up by"):
				s.cutByUs++
			case strings.HasPrefix(p, "outcome"):
				s.inconsistent++
			}
		}
	}
	// Records of calls no caller placed (operators' feature lines are
	// not calls of the report; anything else inbound would be).
	for id, rs := range recs {
		if !ids[id] {
			for _, r := range rs {
				if r.Direction == cdr.Inbound {
					s.extra++
					t.Errorf("a CDR for a call no caller placed: %+v", r)
				}
			}
		}
	}
	var parts []string
	for _, p := range order {
		parts = append(parts, fmt.Sprintf("%s %d", p, phases[p]))
	}
	s.phases = strings.Join(parts, ", ")
	return s
}

// TestScanFindsNumbers: the privacy scan finds a number and its national
// digits wherever they sit in a byte stream, and nothing else.
func TestScanFindsNumbers(t *testing.T) {
	c := &caller{number: "+393331234567"}
	needles := map[string]*caller{c.number: c, c.national(): c}
	tests := []struct {
		name string
		in   string
		want int
	}{
		{"json log", `{"caller":"+393331234567"}`, 2},
		{"national in a blob", "\x00\x013331234567\xff", 1},
		{"hash only", `{"caller":"a3f1c9"}`, 0},
		{"other number", "+393331234568", 0},
		{"00 prefix", "caller=00393331234567", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := len(scan("x", []byte(tc.in), needles)); got != tc.want {
				t.Errorf("%d hits, want %d", got, tc.want)
			}
		})
	}
}
