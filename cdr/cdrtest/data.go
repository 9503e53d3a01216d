package cdrtest

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// SeedFile is the seed quarter's file name in the data directory.
const SeedFile = "quarter-2025-summer.jsonl.gz"

// DataDir returns the shared data directory: $HELPLINE_DATA, else
// ../shared/data relative to the repository root (found by walking up to
// go.mod). It fails the test if the seed quarter is not there.
func DataDir(tb testing.TB) string {
	tb.Helper()
	dir := os.Getenv("HELPLINE_DATA")
	if dir == "" {
		root, err := os.Getwd()
		if err != nil {
			tb.Fatal(err)
		}
		for {
			if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
				break
			}
			parent := filepath.Dir(root)
			if parent == root {
				tb.Fatal("cdrtest: no go.mod above the working directory; set HELPLINE_DATA")
			}
			root = parent
		}
		dir = filepath.Join(root, "..", "shared", "data")
	}
	if _, err := os.Stat(filepath.Join(dir, SeedFile)); err != nil {
		tb.Fatalf("cdrtest: seed data not found (%v); set HELPLINE_DATA to the data directory", err)
	}
	return dir
}

// Expected holds the figures of quarter-2025-summer.expected.json that the
// seed file must reproduce.
type Expected struct {
	Start          string  `json:"start"`
	End            string  `json:"end"`
	Answered       int     `json:"answered"`
	Unanswered     int     `json:"unanswered"`
	Voicemail      int     `json:"voicemail"`
	Abandoned      int     `json:"abandoned"`
	Blacklisted    int     `json:"blacklisted"`
	WelcomeHangup  int     `json:"welcome_hangup"`
	Total          int     `json:"total"`
	Queued         int     `json:"queued"`
	TalkTotalS     int     `json:"talk_total_s"`
	MeanWaitExactS float64 `json:"mean_wait_exact_s"`
	OutAnswered    int     `json:"out_answered"`
	OutBusy        int     `json:"out_busy"`
	OutNoAnswer    int     `json:"out_noanswer"`
	OutTotal       int     `json:"out_total"`
	OutTalkTotalS  int     `json:"out_talk_total_s"`
	// Matrix counts inbound calls by local hour (row) and weekday
	// (column, Monday first).
	Matrix [24][7]int `json:"matrix"`
}

// LoadExpected reads the expected figures from the data directory.
func LoadExpected(tb testing.TB) Expected {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join(DataDir(tb), "quarter-2025-summer.expected.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var e Expected
	if err := json.Unmarshal(data, &e); err != nil {
		tb.Fatalf("expected figures: %v", err)
	}
	return e
}

// WriteSynthetic writes n valid neutral lines with made-up numbers, shaped
// like the seed quarter (about half answered, a fifth welcome hang-ups, a
// few percent outbound), for load tests and benchmarks. The same seed gives
// the same file.
func WriteSynthetic(w io.Writer, n int, seed uint64) error {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	t := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	langs := []string{"it", "it", "it", "it", "en", "fr", "es", "ar", "de"}
	ts := func(t time.Time) string { return t.Format(time.RFC3339) }
	for i := range n {
		t = t.Add(time.Duration(1+rng.IntN(20)) * time.Second)
		arrived := t
		var line string
		switch p := rng.IntN(100); {
		case p < 4:
			outcome := []string{"answered", "busy", "no_answer", "failed"}[rng.IntN(4)]
			ended := arrived.Add(time.Duration(5+rng.IntN(30)) * time.Second)
			connected := ""
			if outcome == "answered" {
				c := ended
				ended = c.Add(time.Duration(30+rng.IntN(300)) * time.Second)
				connected = fmt.Sprintf(`, "connected_at": %q`, ts(c))
			}
			line = fmt.Sprintf(`{"id": "out-%07d", "direction": "outbound", "arrived_at": %q, "outcome": %q, "operator": "op%d", "callee": "+3906%08d"%s, "ended_at": %q}`,
				i, ts(arrived), outcome, 1000+rng.IntN(40), rng.IntN(1e8), connected, ts(ended))
		case p < 22:
			line = fmt.Sprintf(`{"id": "in-%07d", "direction": "inbound", "arrived_at": %q, "outcome": "blacklisted", "caller": "+393%09d", "withheld": false, "ended_at": %q}`,
				i, ts(arrived), rng.IntN(1e9), ts(arrived.Add(time.Second)))
		case p < 50:
			line = fmt.Sprintf(`{"id": "in-%07d", "direction": "inbound", "arrived_at": %q, "outcome": "welcome_hangup", "caller": "+393%09d", "withheld": false, "ended_at": %q}`,
				i, ts(arrived), rng.IntN(1e9), ts(arrived.Add(time.Duration(2+rng.IntN(40))*time.Second)))
		default:
			queued := arrived.Add(time.Duration(15+rng.IntN(30)) * time.Second)
			lang := langs[rng.IntN(len(langs))]
			if p < 90 {
				connected := queued.Add(time.Duration(1+rng.IntN(70)) * time.Second)
				ended := connected.Add(time.Duration(30+rng.IntN(600)) * time.Second)
				line = fmt.Sprintf(`{"id": "in-%07d", "direction": "inbound", "arrived_at": %q, "outcome": "answered", "caller": "+393%09d", "withheld": false, "language": %q, "queued_at": %q, "connected_at": %q, "ended_at": %q, "operator": "op%d"}`,
					i, ts(arrived), rng.IntN(1e9), lang, ts(queued), ts(connected), ts(ended), 1000+rng.IntN(40))
			} else {
				outcome := []string{"abandoned", "unanswered", "voicemail"}[rng.IntN(3)]
				line = fmt.Sprintf(`{"id": "in-%07d", "direction": "inbound", "arrived_at": %q, "outcome": %q, "caller": "+393%09d", "withheld": false, "language": %q, "queued_at": %q, "ended_at": %q}`,
					i, ts(arrived), outcome, rng.IntN(1e9), lang, ts(queued), ts(queued.Add(time.Duration(10+rng.IntN(600))*time.Second)))
			}
		}
		if _, err := io.WriteString(w, line+"\n"); err != nil {
			return err
		}
	}
	return nil
}
