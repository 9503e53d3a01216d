package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"
	"github.com/nyaruka/phonenumbers"

	"github.com/helpline-it/helpline/ari/aritest"
	"github.com/helpline-it/helpline/callerid"
	"github.com/helpline-it/helpline/cdr"
	"github.com/helpline-it/helpline/cdr/sqlite"
	"github.com/helpline-it/helpline/config"
	"github.com/helpline-it/helpline/demo"
	"github.com/helpline-it/helpline/internal/testenv"
	"github.com/helpline-it/helpline/queue"
)

// leakForms are the byte strings that would betray a caller number: the
// number as the network sent it, its digits, its E.164 digits and its
// national significant number (the digits without any prefix).
func leakForms(t *testing.T, raw string) []string {
	t.Helper()
	num, err := phonenumbers.Parse(raw, "IT")
	if err != nil {
		t.Fatalf("test number %q does not parse: %v", raw, err)
	}
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, raw)
	e164 := strings.TrimPrefix(phonenumbers.Format(num, phonenumbers.E164), "+")
	nsn := phonenumbers.GetNationalSignificantNumber(num)
	if len(nsn) < 6 {
		t.Fatalf("test number %q: national significant number %q too short to scan for", raw, nsn)
	}
	forms := []string{raw, digits, e164, nsn}
	seen := map[string]bool{}
	var out []string
	for _, f := range forms {
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	return out
}

// leakScanner looks for every form of a set of numbers in byte blobs. A
// form is matched with any run of the separators people and programs put
// in numbers (space, dot, dash, slash, parentheses) between its digits,
// so "351 000 1111" betrays 3510001111 as much as the bare digits do.
type leakScanner struct {
	forms map[string]*regexp.Regexp // form → its pattern
	of    map[string]string         // form → the raw number it betrays
}

func newLeakScanner(t *testing.T, numbers ...string) *leakScanner {
	t.Helper()
	s := &leakScanner{forms: map[string]*regexp.Regexp{}, of: map[string]string{}}
	for _, n := range numbers {
		for _, f := range leakForms(t, n) {
			var p strings.Builder
			for i, r := range f {
				if i > 0 && r >= '0' && r <= '9' {
					p.WriteString(`[ .\-/()]*`)
				}
				p.WriteString(regexp.QuoteMeta(string(r)))
			}
			s.forms[f] = regexp.MustCompile(p.String())
			s.of[f] = n
		}
	}
	return s
}

// find returns one "form (of number)" per form found in data.
func (s *leakScanner) find(data []byte) []string {
	var hits []string
	for f, re := range s.forms {
		if m := re.Find(data); m != nil {
			hits = append(hits, fmt.Sprintf("%q as %q (of %s)", f, m, s.of[f]))
		}
	}
	return hits
}

// scanDir returns the hits in every regular file under dir, by file.
func (s *leakScanner) scanDir(t *testing.T, dir string) (hits map[string][]string, files int) {
	t.Helper()
	hits = map[string][]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		if h := s.find(data); len(h) > 0 {
			hits[path] = h
		}
		return nil
	})
	if err != nil {
		t.Fatalf("scanning %s: %v", dir, err)
	}
	return hits, files
}

// TestPrivacyNoRawNumberAtRest is issue #8's promise 5, tested: a run of
// calls with known numbers in every format (international with + and 00,
// national mobile and landline, a foreign number, withheld) through a
// `helpline serve` node with real Redis and SQLite, reaching every outcome
// (unanswered, blacklisted after `helpline blacklist add`, welcome hang-up,
// abandoned, voicemail with a kept recording, answered); then the Redis
// dump (SAVE, the RDB file, uncompressed so nothing hides), every file of
// the node's data directory (SQLite database, WAL, spool, recordings), the
// recordings Asterisk keeps for us (their metadata) and every log line
// of serve and of the CLI hold none of the numbers in any form. The
// scanner is checked to find a planted number in each kind of store, so a
// blind scan cannot pass.
func TestPrivacyNoRawNumberAtRest(t *testing.T) {
	const (
		unanswered = "+39 02 8765 4321" // international, +
		blocked    = "0039 347 765 4321"
		welcome    = "0039 06 6789 1234" // international, 00, Rome landline
		abandoned  = "06 4567 8912"      // national landline
		voicemail  = "+44 20 7946 0958"  // foreign
		answered   = "3331234567"        // national mobile, no spaces
		withheld   = "anonymous"
	)
	numbers := []string{unanswered, blocked, welcome, abandoned, voicemail, answered}
	scan := newLeakScanner(t, numbers...)

	r := testenv.StartRedis(t, "--rdbcompression", "no")
	clock := clockwork.NewFakeClockAt(time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC))
	srv := testenv.StartAritest(t, testenv.AritestClock(clock))
	file, dbPath := serveConfig(t, srv.URL, r.Addr)
	dataDir := filepath.Dir(dbPath)
	s := startServe(t, clock, srv, serveEnv, "--config", file)
	s.drive("ready", readyz(s))
	ctx := context.Background()
	rdb := r.Client(t)
	q, err := queue.NewRedis(rdb, queue.RedisOptions{Prefix: "helpline", Service: "1522"})
	if err != nil {
		t.Fatal(err)
	}
	var cliLog strings.Builder
	ended := func(c *aritest.Call) func() bool {
		return func() bool { _, done := c.Ended(); return done }
	}
	place := func(number string, script ...aritest.App) *aritest.Call {
		t.Helper()
		c, err := srv.Call(ctx, number, "800123456", aritest.CallOptions{Script: script})
		if err != nil {
			t.Fatalf("call from %s: %v", number, err)
		}
		return c
	}
	heardMOH := func(c *aritest.Call) func() bool {
		return func() bool {
			for _, h := range c.Heard() {
				if h.Kind == "moh" {
					return true
				}
			}
			return false
		}
	}
	want := map[*aritest.Call]cdr.Outcome{}

	// Nobody logged in: unanswered.
	c := place(unanswered)
	s.drive("unanswered call over", ended(c))
	want[c] = cdr.Unanswered

	// Blocked by an administrator with the CLI, then rejected.
	res := cliAt(t, clock.Now(), serveEnv, "blacklist", "--config", file, "add", blocked, "--reason", "threats", "--for", "30d")
	cliLog.WriteString(res.stdout + res.stderr)
	if res.code != 0 {
		t.Fatalf("blacklist add: %+v", res)
	}
	c = place(blocked)
	s.drive("blacklisted call over", ended(c))
	want[c] = cdr.Blacklisted

	// Hangs up during the welcome (and a withheld caller does too).
	c = place(welcome, aritest.App{Name: "Wait", Data: "1"}, aritest.App{Name: "Hangup"})
	s.drive("welcome hang-up over", ended(c))
	want[c] = cdr.WelcomeHangup
	c = place(withheld, aritest.App{Name: "Wait", Data: "1"}, aritest.App{Name: "Hangup"})
	s.drive("withheld hang-up over", ended(c))
	want[c] = cdr.WelcomeHangup

	// An operator on a break: callers wait.
	if err := q.Login(ctx, queue.Operator{ID: "op1001", Endpoint: "PJSIP/op1001", Skills: []string{"it"}}, clock.Now()); err != nil {
		t.Fatal(err)
	}
	if err := q.Pause(ctx, "op1001", "break", clock.Now()); err != nil {
		t.Fatal(err)
	}
	c = place(abandoned)
	s.drive("abandoning caller waits", heardMOH(c))
	if err := c.Hangup(); err != nil {
		t.Fatal(err)
	}
	s.drive("abandoned call over", ended(c))
	want[c] = cdr.Abandoned

	c = place(voicemail)
	s.drive("voicemail caller waits", heardMOH(c))
	leaveVoicemail(s, c)
	want[c] = cdr.Voicemail

	// Back from the break: answered.
	if err := q.Unpause(ctx, "op1001", clock.Now()); err != nil {
		t.Fatal(err)
	}
	c = place(answered, aritest.App{Name: "Wait", Data: "20"}, aritest.App{Name: "Hangup"})
	s.drive("answered call over", ended(c))
	want[c] = cdr.Answered

	// What Asterisk keeps for us: the stored recordings' metadata.
	recMeta := ariGet(t, srv.URL+"/ari/recordings/stored")
	if !strings.Contains(recMeta, "vm-") {
		t.Fatalf("no voicemail among the stored recordings: %s", recMeta)
	}

	// What the node serves over HTTP.
	_, metrics := s.get("/metrics")
	if !strings.Contains(metrics, "helpline_ivr_calls_total") {
		t.Fatalf("/metrics lacks the calls:\n%s", metrics)
	}
	if h := scan.find([]byte(metrics)); len(h) > 0 {
		t.Errorf("/metrics holds caller numbers: %q", h)
	}

	if code := s.stop(); code != exitOK {
		t.Fatalf("serve exited %d", code)
	}

	// Every call has its CDR with the outcome the caller's actions make.
	db, err := sqlite.Open(ctx, dbPath, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	reached := map[cdr.Outcome]bool{}
	for call, outcome := range want {
		rec, err := db.Get(ctx, call.ChannelID())
		if err != nil {
			t.Fatalf("CDR of %s: %v", call.ChannelID(), err)
		}
		if rec.Outcome != outcome {
			t.Errorf("CDR of %s: outcome %s, want %s (%+v)", call.ChannelID(), rec.Outcome, outcome, rec)
		}
		reached[rec.Outcome] = true
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	for _, o := range []cdr.Outcome{cdr.Unanswered, cdr.Blacklisted, cdr.WelcomeHangup, cdr.Abandoned, cdr.Voicemail, cdr.Answered} {
		if !reached[o] {
			t.Errorf("no call ended %s: the scan would not cover that path", o)
		}
	}

	// The scans.
	if err := rdb.Save(ctx).Err(); err != nil {
		t.Fatalf("redis SAVE: %v", err)
	}
	rdbFile := filepath.Join(r.Dir, "dump.rdb")
	dump, err := os.ReadFile(rdbFile)
	if err != nil {
		t.Fatalf("reading the RDB dump: %v", err)
	}
	if n, _ := rdb.DBSize(ctx).Result(); n == 0 || len(dump) < 100 {
		t.Fatalf("Redis holds %d keys, dump %d bytes: nothing to scan", n, len(dump))
	}
	if h := scan.find(dump); len(h) > 0 {
		t.Errorf("the Redis dump holds caller numbers: %q", h)
	}
	hits, files := scan.scanDir(t, dataDir)
	for path, h := range hits {
		t.Errorf("%s holds caller numbers: %q", path, h)
	}
	if files < 2 { // the database and its WAL at least
		t.Errorf("scanned %d files in %s; the node's data are not there", files, dataDir)
	}
	if _, err := os.Stat(dbPath); err != nil {
		t.Errorf("no SQLite file: %v", err)
	}
	if h := scan.find([]byte(recMeta)); len(h) > 0 {
		t.Errorf("the stored recordings' metadata hold caller numbers: %q\n%s", h, recMeta)
	}
	logs := s.stderr.String() + cliLog.String()
	if !strings.Contains(logs, "helpline node started") || !strings.Contains(logs, "blocked caller") {
		t.Fatalf("the logs were not captured:\n%s", logs)
	}
	if h := scan.find([]byte(logs)); len(h) > 0 {
		t.Errorf("the logs hold caller numbers: %q", h)
	}

	// The scanner is not blind: a planted number is found in each store.
	const planted = "+39 351 000 1111"
	plant := newLeakScanner(t, planted)
	if err := rdb.Set(ctx, "planted:note", "call back 3510001111 tomorrow", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.Save(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if dump, err = os.ReadFile(rdbFile); err != nil || len(plant.find(dump)) == 0 {
		t.Errorf("self-check: a number planted in Redis is not found in the dump (%v)", err)
	}
	sdb, err := sql.Open("sqlite", dbPath)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sdb.Exec(`CREATE TABLE planted (note TEXT); INSERT INTO planted VALUES ('caller +393510001111')`); err != nil {
		t.Fatal(err)
	}
	if err := sdb.Close(); err != nil {
		t.Fatal(err)
	}
	if hits, _ := plant.scanDir(t, dataDir); len(hits) == 0 {
		t.Error("self-check: a number planted in the SQLite file is not found")
	}
	if len(plant.find([]byte(logs+`{"level":"info","caller":"0039 351 000 1111"}`))) == 0 {
		t.Error("self-check: a number planted in a log line is not found")
	}
}

// ariGet fetches an ARI resource of the emulator as the node would.
func ariGet(t *testing.T, url string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth("asterisk", serveEnv["HELPLINE_ARI_PASSWORD"])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
	}
	return string(b)
}

// TestPrivacyKeyRequiredExceptDemo: serve refuses to start without the
// privacy key (TestServeRefuses checks the message), while the demo needs
// none: each run makes its own random key, long enough for the hasher,
// so the records of two runs cannot be linked.
func TestPrivacyKeyRequiredExceptDemo(t *testing.T) {
	var stderr testenv.LogBuffer
	file, _ := serveConfig(t, "http://127.0.0.1:1", "127.0.0.1:1")
	if code := execServe(context.Background(), clockwork.NewFakeClock(), map[string]string{"HELPLINE_ARI_PASSWORD": "x"}, &stderr, nil, "--config", file); code != exitUsage ||
		!strings.Contains(stderr.String(), "refusing to start without the privacy key (privacy.hmac_key)") {
		t.Errorf("serve without a key: exit %d, stderr %q", code, stderr.String())
	}
	keys := map[string]bool{}
	for range 2 {
		e, err := demo.StartEmbedded(demo.EmbeddedOptions{Clock: clockwork.NewFakeClock()})
		if err != nil {
			t.Fatal(err)
		}
		key := e.HMACKey
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
		if len(key) < config.MinHMACKeyLength || keys[key] {
			t.Fatalf("demo key of %d bytes (seen before: %v): want a fresh key of at least %d bytes each run", len(key), keys[key], config.MinHMACKeyLength)
		}
		if _, err := callerid.NewHasher([]byte(key)); err != nil {
			t.Fatalf("the demo's key is refused by the hasher: %v", err)
		}
		keys[key] = true
	}
}
