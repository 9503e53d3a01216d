package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/helpline-it/helpline/cdr"
	"github.com/helpline-it/helpline/cdr/sqlite"
	"github.com/helpline-it/helpline/config"
	"github.com/helpline-it/helpline/demo"
	"github.com/helpline-it/helpline/queue"
)

// demoRun is one in-process run of `helpline demo` with its scenario and
// counts captured.
type demoRun struct {
	code           int
	stdout, stderr string
	scenario       demo.Scenario
	counts         demo.Counts
	db             string
}

// execDemo runs `helpline demo args…` in process with hooks; the demo
// command is the one of the real tree, with the hooks added.
func execDemo(ctx context.Context, hooks *demoHooks, args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	d := &Deps{
		Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errOut,
		Getenv: func(string) string { return "" },
		// The "real" clock: 20:00 in Rome, after the simulated periods.
		Clock: clockwork.NewFakeClockAt(time.Date(2025, 7, 21, 18, 0, 0, 0, time.UTC)),
	}
	root := newRootCmd(d)
	for _, c := range root.Commands() {
		if c.Name() == "demo" {
			root.RemoveCommand(c)
		}
	}
	dc := newDemoCmdHooks(d, hooks)
	root.AddCommand(dc)
	finishTree(dc)
	root.SetArgs(append([]string{"demo"}, args...))
	_, err := root.ExecuteContextC(ctx)
	if err != nil {
		code = exitFailure
		var coder interface{ ExitCode() int }
		if errors.As(err, &coder) {
			code = coder.ExitCode()
		}
		errOut.WriteString(err.Error())
	}
	return code, out.String(), errOut.String()
}

// runDemoCmd runs `helpline demo args…` flat out, writing the records to
// a kept file; edit may change the scenario. It fails the test unless
// the demo exits 0 with nothing on stderr.
func runDemoCmd(t *testing.T, edit func(*demo.Scenario), args ...string) demoRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r := demoRun{db: filepath.Join(t.TempDir(), "demo.db")}
	hooks := &demoHooks{
		scenario: func(s *demo.Scenario) {
			if edit != nil {
				edit(s)
			}
			r.scenario = *s
		},
		counts: func(c demo.Counts) { r.counts = c },
	}
	r.code, r.stdout, r.stderr = execDemo(ctx, hooks, append([]string{"--speed", "0", "--db", r.db}, args...)...)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("demo exited %d\nstderr:\n%s\nstdout:\n%s", r.code, r.stderr, r.stdout)
	}
	return r
}

// records reads every record of the run's file.
func (r demoRun) records(t *testing.T) map[string]cdr.Record {
	t.Helper()
	db, err := sqlite.Open(context.Background(), r.db, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	out := map[string]cdr.Record{}
	err = db.Scan(context.Background(), cdr.Filter{}, func(rec *cdr.Record) error {
		if _, dup := out[rec.ID]; dup {
			t.Errorf("record %s twice", rec.ID)
		}
		if err := rec.Validate(); err != nil {
			t.Errorf("record %s invalid: %v", rec.ID, err)
		}
		out[rec.ID] = *rec
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// checkRun asserts what every demo run must give: one record per call,
// the printed counts and report's total equal to the calls placed, and
// no caller's number in the record file or the output.
func checkRun(t *testing.T, r demoRun) map[string]cdr.Record {
	t.Helper()
	c := r.counts
	if c.Placed == 0 || c.Placed != len(c.CallIDs) {
		t.Fatalf("placed %d calls, ids %d", c.Placed, len(c.CallIDs))
	}
	if c.Unfinished != 0 || c.Missing != 0 || c.Total() != c.Placed {
		t.Errorf("counts %+v: want every call over and recorded", c)
	}
	recs := r.records(t)
	if len(recs) != c.Placed {
		t.Errorf("%d records for %d calls", len(recs), c.Placed)
	}
	byOutcome := map[cdr.Outcome]int{}
	for _, id := range c.CallIDs {
		rec, ok := recs[id]
		if !ok {
			t.Errorf("call %s has no record", id)
			continue
		}
		byOutcome[rec.Outcome]++
	}
	for _, o := range outcomeOrder {
		if byOutcome[o] != c.Outcomes[o] {
			t.Errorf("%s: %d records, counted %d", o, byOutcome[o], c.Outcomes[o])
		}
	}
	if want := "Calls placed: " + strconv.Itoa(c.Placed) + "; call records: " + strconv.Itoa(c.Placed) + " (one per call)"; !strings.Contains(r.stdout, want) {
		t.Errorf("output lacks %q", want)
	}
	total := regexp.MustCompile(`(?m)^Totale +([0-9.]+) +100,0%$`).FindStringSubmatch(r.stdout)
	if total == nil {
		t.Fatalf("no Totale row in the report:\n%s", r.stdout)
	}
	if n, _ := strconv.Atoi(strings.ReplaceAll(total[1], ".", "")); n != c.Placed {
		t.Errorf("report total %s, placed %d", total[1], c.Placed)
	}
	var disk []byte
	for _, suffix := range []string{"", "-wal", "-shm"} {
		b, err := os.ReadFile(r.db + suffix)
		if err != nil && suffix == "" {
			t.Fatal(err)
		}
		disk = append(disk, b...)
	}
	for _, n := range r.scenario.Numbers(c.Placed) {
		national := strings.TrimPrefix(n, "+39")
		for _, where := range []struct {
			name string
			data []byte
		}{{"record file", disk}, {"stdout", []byte(r.stdout)}, {"stderr", []byte(r.stderr)}} {
			if bytes.Contains(where.data, []byte(national)) {
				t.Errorf("caller number %s in the %s", n, where.name)
			}
		}
	}
	return recs
}

// TestDemoCommand: an hour of the default scenario, as a new user would
// run it (flat out, seed 1): exit 0, one record per call, the report's
// total is the calls placed, no number leaks; progress lines every
// quarter of an hour.
func TestDemoCommand(t *testing.T) {
	r := runDemoCmd(t, nil, "--hours", "1", "--seed", "1", "--start", "2025-07-21T10:00")
	checkRun(t, r)
	for _, want := range []string{
		"helpline demo: Mon 2025-07-21 10:00 – Mon 2025-07-21 11:00 (Europe/Rome), seed 1",
		"Embedded Redis: 127.0.0.1:",
		"Call records: " + r.db + " (kept)",
		"10:15  calls ", "10:30  calls ", "10:45  calls ",
		"Relazione sull'attività del Centralino telefonico",
		"Numero chiamate entrate in coda",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.stdout)
		}
	}
	if r.counts.Outcomes[cdr.Answered] == 0 || r.counts.Outcomes[cdr.Blacklisted] == 0 || r.counts.Outcomes[cdr.WelcomeHangup] == 0 {
		t.Errorf("outcomes %v: the seed's mix should give answered, blacklisted and welcome hang-ups in an hour", r.counts.Outcomes)
	}
}

// TestDemoEveryOutcome: a scenario built to produce every outcome — a
// language nobody on duty speaks (unanswered), impatient callers
// (abandoned), callers who leave messages (voicemail), the blacklisted
// pool, welcome hang-ups — and operators who miss rings (auto-pause,
// then back) and take breaks.
func TestDemoEveryOutcome(t *testing.T) {
	edit := func(s *demo.Scenario) {
		s.Rate = 2.5
		for i := range s.Languages {
			s.Languages[i].Share = map[string]float64{"it": 0.6, "en": 0.2, "de": 0.2}[s.Languages[i].Code]
		}
		b := &s.Callers
		b.Blacklisted, b.WelcomeHangup = 0.15, 0.15
		b.Voicemail = 0.2
		b.VoicemailAfter = demo.Range{Min: 5 * time.Second, Max: 20 * time.Second}
		b.Patience = 2 * time.Minute
		b.TalkMedian = 3 * time.Minute
		roster := demo.DefaultRoster()
		s.Operators = []demo.Operator{roster[1], roster[5]} // Sara (it, fr, es) and Chiara (it, en)
		for i := range s.Operators {
			o := &s.Operators[i]
			o.Shift = demo.Shift{}
			o.Miss = 0.3
			o.PauseFor = demo.Range{Min: 30 * time.Second, Max: time.Minute}
			o.BreakEvery, o.BreakFor = 10*time.Minute, demo.Range{Min: time.Minute, Max: 2 * time.Minute}
		}
	}
	r := runDemoCmd(t, edit, "--hours", "0.5", "--seed", "3", "--start", "2025-07-21T10:00")
	recs := checkRun(t, r)
	for _, o := range outcomeOrder {
		if r.counts.Outcomes[o] == 0 {
			t.Errorf("no %s call: %v", o, r.counts.Outcomes)
		}
	}
	c := r.counts
	if c.Missed == 0 || c.AutoPaused == 0 || c.Unpaused == 0 || c.AutoPaused > c.Missed || c.Breaks == 0 {
		t.Errorf("rings %d, missed %d, auto-paused %d, back %d, breaks %d: want missed rings, pauses, returns and breaks",
			c.Rings, c.Missed, c.AutoPaused, c.Unpaused, c.Breaks)
	}
	for _, rec := range recs {
		if rec.Outcome == cdr.Unanswered && rec.Language != "de" {
			t.Errorf("unanswered call %s in %q: only German has nobody", rec.ID, rec.Language)
		}
		if rec.Outcome == cdr.Answered && rec.Operator != "op1002" && rec.Operator != "op1006" {
			t.Errorf("answered by %q", rec.Operator)
		}
	}
}

// tempRecords finds the temporary record file the demo announced.
func tempRecords(t *testing.T, stdout string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^Call records: (\S+) \(temporary\)$`).FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("no temporary record file announced:\n%s", stdout)
	}
	return m[1]
}

// TestDemoInterrupted: Ctrl-C in the middle of the simulated period
// stops the demo cleanly: exit 0, the counts so far, and the temporary
// files removed.
func TestDemoInterrupted(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	before := runtime.NumGoroutine()
	stopped := false
	hooks := &demoHooks{progress: func(p demo.Progress) {
		if p.Placed >= 5 && !stopped {
			stopped = true
			cancel() // what SIGINT does to the command's context
		}
	}}
	code, stdout, stderr := execDemo(ctx, hooks, "--hours", "3", "--speed", "0", "--seed", "5", "--start", "2025-07-21T10:00")
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q\n%s", code, stderr, stdout)
	}
	if !stopped {
		t.Fatal("the run ended before five calls")
	}
	for _, want := range []string{"Interrupted after ", "Calls placed: "} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout, "Relazione") {
		t.Errorf("report printed after an interruption:\n%s", stdout)
	}
	dir := filepath.Dir(tempRecords(t, stdout))
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("working directory %s left behind (%v)", dir, err)
	}
	// Nothing keeps running: the goroutines go back to where they were
	// (a few may take a moment to notice their connection closed).
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before+2 && time.Now().Before(deadline) {
		runtime.Gosched()
		time.Sleep(10 * time.Millisecond) // polling with a deadline
	}
	if n := runtime.NumGoroutine(); n > before+2 {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines before the demo, %d after:\n%s", before, n, buf[:runtime.Stack(buf, true)])
	}
}

// TestDemoKeep: with --keep the demo goes on after the report, its clock
// moved to the real time, until Ctrl-C; then it exits 0, and the
// temporary record file (no --db) is gone.
func TestDemoKeep(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	kept := false
	hooks := &demoHooks{keep: func() { kept = true; cancel() }}
	code, stdout, stderr := execDemo(ctx, hooks, "--hours", "0.25", "--speed", "0", "--seed", "1", "--start", "2025-07-21T10:00", "--keep")
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q\n%s", code, stderr, stdout)
	}
	if !kept {
		t.Fatalf("no --keep phase:\n%s", stdout)
	}
	want := "--keep: the switchboard goes on in real time from 20:00"
	if i, j := strings.Index(stdout, "Relazione"), strings.Index(stdout, want); i < 0 || j < i {
		t.Errorf("want the report, then %q:\n%s", want, stdout)
	}
	dir := filepath.Dir(tempRecords(t, stdout))
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("working directory %s left behind (%v)", dir, err)
	}
}

func TestDemoBadFlags(t *testing.T) {
	existing := writeTemp(t, "old.db", "")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--hours", "0"}, "helpline: demo: invalid --hours 0: want more than 0 and at most 744 (see 'helpline demo --help')"},
		{[]string{"--hours", "1000"}, "helpline: demo: invalid --hours 1000: want more than 0 and at most 744 (see 'helpline demo --help')"},
		{[]string{"--hours", "NaN"}, "helpline: demo: invalid --hours NaN: want more than 0 and at most 744 (see 'helpline demo --help')"},
		{[]string{"--speed", "-1"}, "helpline: demo: invalid --speed -1: want 0 (flat out) or a positive factor (see 'helpline demo --help')"},
		{[]string{"--rate", "0"}, "helpline: demo: invalid --rate 0: want a positive multiple of the seed's volume, at most 1000 (see 'helpline demo --help')"},
		{[]string{"--start", "2025-13-01T10:00"}, `helpline: demo: invalid --start "2025-13-01T10:00": want YYYY-MM-DDTHH:MM (local time, Europe/Rome) (see 'helpline demo --help')`},
		{[]string{"--db", existing}, "helpline: demo: invalid --db " + existing + ": the file exists; give a new file (a demo never mixes its records with others) (see 'helpline demo --help')"},
		{[]string{"--config", "/nonexistent/helpline.yaml"}, "helpline: demo: /nonexistent/helpline.yaml: no such file (see 'helpline demo --help')"},
		{[]string{"now"}, `helpline: unknown command "now" for "helpline demo" (see 'helpline demo --help')`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := runCLI(t, nil, "", append([]string{"demo"}, tt.args...)...)
			if r.code != exitUsage || r.stdout != "" || strings.TrimSuffix(r.stderr, "\n") != tt.want {
				t.Errorf("exit %d\nstdout %q\nstderr %q\nwant   %q", r.code, r.stdout, r.stderr, tt.want)
			}
		})
	}
}

// TestDemoProgressTerminal: on a terminal the progress block is redrawn
// in place (cursor up over the previous drawing, clear), at most every
// 100 ms of real time; off a terminal it is one line per quarter hour.
func TestDemoProgressTerminal(t *testing.T) {
	cfg, err := config.Parse("example", config.ExampleYAML())
	if err != nil {
		t.Fatal(err)
	}
	wall := clockwork.NewFakeClock()
	var b bytes.Buffer
	p := newDemoProgress(&b, &Deps{Clock: wall}, cfg)
	p.tty = true
	at := time.Date(2025, 7, 21, 8, 0, 0, 0, time.UTC)
	pr := func(min int, placed int) demo.Progress {
		return demo.Progress{
			At: at.Add(time.Duration(min) * time.Minute), Placed: placed,
			Waiting:   map[string]int{"it": 2, "en": 1},
			Operators: map[queue.State]int{queue.Available: 3, queue.Busy: 1},
			Outcomes:  map[cdr.Outcome]int{cdr.Answered: placed},
		}
	}
	wall.Advance(time.Second)
	p.update(pr(1, 1))
	first := b.String()
	p.update(pr(2, 2)) // same real instant: not redrawn
	if b.String() != first {
		t.Errorf("redrawn within 100 ms:\n%q", b.String())
	}
	wall.Advance(100 * time.Millisecond)
	p.update(pr(3, 3))
	second := strings.TrimPrefix(b.String(), first)
	if strings.Contains(first, "\x1b[") || !strings.HasPrefix(second, "\x1b[4A\x1b[J") {
		t.Errorf("first drawing %q, second %q: want the second to overwrite the first's 4 lines", first, second)
	}
	for _, want := range []string{"Simulated Mon 21 Jul 10:03:00", "Waiting     it 2 en 1 fr 0 es 0 ar 0 de 0",
		"Operators   free 3  ringing 0  busy 1  wrap-up 0  paused 0", "Outcomes    answered 3  abandoned 0"} {
		if !strings.Contains(second, want) {
			t.Errorf("drawing lacks %q:\n%s", want, second)
		}
	}

	b.Reset()
	p = newDemoProgress(&b, &Deps{Clock: wall}, cfg)
	for m := 0; m <= 31; m++ {
		p.update(pr(m, m))
	}
	p.finish()
	got := lines(b.String())
	if len(got) != 3 || !strings.HasPrefix(got[0], "10:15  calls 15, ") || !strings.HasPrefix(got[1], "10:30  calls 30, ") ||
		!strings.HasPrefix(got[2], "10:31  calls 31, ") {
		t.Errorf("lines:\n%s", b.String())
	}
}

// TestDemoConfig: with --config the demo takes the file's languages,
// hours and operators (on duty all day), and ignores its addresses and
// secrets (none of the file's environment variables is set here).
func TestDemoConfig(t *testing.T) {
	file := writeTemp(t, "helpline.yaml", string(config.ExampleYAML()))
	r := runDemoCmd(t, nil, "--config", file, "--hours", "0.25", "--seed", "2", "--start", "2025-07-23T10:30")
	checkRun(t, r)
	want := "Operators: op1001 Giulia [it,en] all day; op1002 Sara [it,fr,es] all day; op1003 Amina [it,ar,fr] all day; op1004 Katrin [it,de,en] all day\n"
	if !strings.Contains(r.stdout, want) {
		t.Errorf("output lacks %q:\n%s", want, r.stdout)
	}
	for id, rec := range r.records(t) {
		if rec.Operator != "" && !slices.Contains([]string{"op1001", "op1002", "op1003", "op1004"}, rec.Operator) {
			t.Errorf("record %s answered by %q", id, rec.Operator)
		}
	}
}
