package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/helpline-it/helpline/cdr"
	"github.com/helpline-it/helpline/cdr/sqlite"
	"github.com/helpline-it/helpline/config"
	"github.com/helpline-it/helpline/report"
)

// reportDB writes a small quarter into a fresh SQLite file: two inbound
// calls in June (one answered, one blacklisted) and one in the previous
// period, plus an outbound call.
func reportDB(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "cdr.db")
	ctx := context.Background()
	db, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	at := time.Date(2025, 6, 2, 8, 0, 0, 0, time.UTC) // Monday 10:00 in Rome
	recs := []cdr.Record{
		{ID: "a", Direction: cdr.Inbound, Outcome: cdr.Answered, ArrivedAt: at, QueuedAt: at.Add(10 * time.Second),
			ConnectedAt: at.Add(40 * time.Second), EndedAt: at.Add(10*time.Minute + 40*time.Second), Language: "it", Operator: "op1",
			CallerHash: strings.Repeat("a", 64)},
		{ID: "b", Direction: cdr.Inbound, Outcome: cdr.Blacklisted, ArrivedAt: at.Add(time.Hour), EndedAt: at.Add(time.Hour + time.Second),
			CallerHash: strings.Repeat("b", 64)},
		{ID: "c", Direction: cdr.Outbound, Outcome: cdr.Busy, ArrivedAt: at.Add(2 * time.Hour), EndedAt: at.Add(2*time.Hour + 5*time.Second),
			Operator: "op1", CalleeHash: strings.Repeat("c", 64)},
		{ID: "old", Direction: cdr.Inbound, Outcome: cdr.WelcomeHangup, ArrivedAt: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC),
			EndedAt: time.Date(2025, 3, 1, 9, 0, 5, 0, time.UTC), CallerHash: strings.Repeat("d", 64)},
	}
	if _, err := db.WriteBatch(ctx, recs); err != nil {
		t.Fatal(err)
	}
	return path
}

// brokenConfig is a configuration file with several problems.
func brokenConfig(t *testing.T) string {
	t.Helper()
	return writeTemp(t, "broken.yaml", "timezone: Nowhere/Land\ncdr:\n  path: x.db\n")
}

// runReportCLI runs `helpline report args…` in process.
func runReportCLI(t *testing.T, args ...string) result {
	t.Helper()
	return runCLI(t, nil, "", append([]string{"report"}, args...)...)
}

// okReport runs `helpline report args…` and fails the test unless it
// succeeds silently on stderr; it returns stdout.
func okReport(t *testing.T, args ...string) string {
	t.Helper()
	r := runReportCLI(t, args...)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("report %q: status %d, stderr %q", args, r.code, r.stderr)
	}
	return r.stdout
}

func TestReportCmdBadFlags(t *testing.T) {
	db := reportDB(t)
	period := []string{"--from", "2025-06-01", "--to", "2025-09-01"}
	tests := []struct {
		name string
		args []string
		want string // the message must name the flag
	}{
		{"bad from", []string{"--db", db, "--from", "2025-13-01", "--to", "2025-09-01"}, "--from"},
		{"bad to", []string{"--db", db, "--from", "2025-06-01", "--to", "1 Sept"}, "--to"},
		{"to before from", []string{"--db", db, "--from", "2025-09-01", "--to", "2025-06-01"}, "--to"},
		{"missing to", []string{"--db", db, "--from", "2025-06-01"}, "--to"},
		{"missing from", []string{"--db", db, "--to", "2025-06-01"}, "--from"},
		{"no period", []string{"--db", db}, "--from"},
		{"bad quarter", []string{"--db", db, "--quarter", "2025Q5"}, "--quarter"},
		{"quarter and from", []string{"--db", db, "--quarter", "2025Q3", "--from", "2025-06-01"}, "--quarter"},
		{"bad lang", append([]string{"--db", db, "--lang", "fr"}, period...), "--lang"},
		{"bad format", append([]string{"--db", db, "--format", "pdf"}, period...), "--format"},
		{"csv without out", append([]string{"--db", db, "--format", "csv"}, period...), "--out"},
		{"bad tz", append([]string{"--db", db, "--tz", "Mars/Olympus"}, period...), "--tz"},
		{"no store", period, "--db"},
		{"missing db file", append([]string{"--db", filepath.Join(t.TempDir(), "nope.db")}, period...), "--db"},
		{"missing config", append([]string{"--config", filepath.Join(t.TempDir(), "nope.yaml")}, period...), "nope.yaml: no such file"},
		{"broken config", append([]string{"--config", brokenConfig(t)}, period...), "timezone"},
		{"unknown flag", append([]string{"--db", db, "--form", "x"}, period...), "--form"},
		{"extra argument", append([]string{"--db", db, "extra"}, period...), "extra"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runReportCLI(t, tc.args...)
			if r.code != 2 {
				t.Errorf("exit status %d; want 2 (stderr %q)", r.code, r.stderr)
			}
			errs := lines(r.stderr)
			if len(errs) == 0 || !strings.HasPrefix(errs[0], "helpline: ") && !strings.Contains(errs[0], ".yaml") {
				t.Fatalf("stderr %q: want an error line", r.stderr)
			}
			if !strings.Contains(r.stderr, tc.want) {
				t.Errorf("stderr %q does not name %s", r.stderr, tc.want)
			}
			if tc.name != "broken config" && len(errs) != 1 {
				t.Errorf("stderr has %d lines; want one: %q", len(errs), r.stderr)
			}
			if r.stdout != "" {
				t.Errorf("wrote %q despite the error", r.stdout)
			}
		})
	}
}

func TestReportCmdJSON(t *testing.T) {
	db := reportDB(t)
	out := okReport(t, "--db", db, "--from", "2025-06-01", "--to", "2025-09-01", "--format", "json")
	var got struct {
		Period  struct{ From, To, Timezone string }
		Inbound struct {
			Total, Answered, Blacklisted int
		}
		ByWeekdayHour map[string][]int `json:"by_weekday_hour"`
		Outbound      struct{ Busy, Total int }
		Previous      struct {
			Total         *int     `json:"total"`
			ChangePercent *float64 `json:"change_percent"`
		}
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if got.Period.From != "2025-06-01" || got.Period.To != "2025-09-01" || got.Period.Timezone != "Europe/Rome" {
		t.Errorf("period = %+v", got.Period)
	}
	if got.Inbound.Total != 2 || got.Inbound.Answered != 1 || got.Inbound.Blacklisted != 1 {
		t.Errorf("inbound = %+v", got.Inbound)
	}
	if got.ByWeekdayHour["mon"][10] != 1 || got.ByWeekdayHour["mon"][11] != 1 {
		t.Errorf("monday = %v; want one call at 10 and one at 11 (Rome time)", got.ByWeekdayHour["mon"])
	}
	if got.Outbound.Busy != 1 || got.Outbound.Total != 1 {
		t.Errorf("outbound = %+v", got.Outbound)
	}
	// March–May holds one call, and the store has data from its first day.
	if got.Previous.Total == nil || *got.Previous.Total != 1 || got.Previous.ChangePercent == nil || *got.Previous.ChangePercent != 100 {
		t.Errorf("previous = %+v", got.Previous)
	}
}

func TestReportCmdFormats(t *testing.T) {
	db := reportDB(t)
	period := []string{"--db", db, "--from", "2025-06-01", "--to", "2025-09-01"}

	out := okReport(t, period...)
	if !strings.Contains(out, "Numero chiamate in blacklist") || !strings.Contains(out, "Giugno - Luglio - Agosto 2025") {
		t.Errorf("Italian text report expected by default:\n%s", out)
	}
	out = okReport(t, append(period, "--lang", "en", "--tz", "UTC")...)
	if !strings.Contains(out, "Blacklisted calls") || !strings.Contains(out, "Local times (UTC)") {
		t.Errorf("English text report in UTC expected:\n%s", out)
	}

	dir := filepath.Join(t.TempDir(), "csv")
	if out := okReport(t, append(period, "--format", "csv", "--out", dir)...); out != "" {
		t.Errorf("csv with --out also wrote to stdout: %q", out)
	}
	for _, name := range report.CSVFiles() {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || len(b) == 0 {
			t.Errorf("%s: %v (%d bytes)", name, err, len(b))
		}
	}

	page := filepath.Join(t.TempDir(), "q.html")
	out = okReport(t, append(period, "--format", "html", "--out", page)...)
	if out != "" {
		t.Errorf("html with --out also wrote to stdout: %q", out)
	}
	if b, err := os.ReadFile(page); err != nil || !bytes.HasPrefix(b, []byte("<!DOCTYPE html>")) {
		t.Errorf("html page: %v %.40q", err, b)
	}
}

func TestReportCmdQuarterAndConfig(t *testing.T) {
	db := reportDB(t)
	cfgPath := filepath.Join(t.TempDir(), "helpline.yaml")
	// The example configuration with our database and zone.
	y := string(config.ExampleYAML())
	for old, repl := range map[string]string{
		"timezone: Europe/Rome":          "timezone: UTC",
		"path: /var/lib/helpline/cdr.db": "path: " + db,
	} {
		if !strings.Contains(y, old) {
			t.Fatalf("example config lacks %q", old)
		}
		y = strings.Replace(y, old, repl, 1)
	}
	if err := os.WriteFile(cfgPath, []byte(y), 0o600); err != nil {
		t.Fatal(err)
	}
	out := okReport(t, "--config", cfgPath, "--quarter", "2025Q2", "--format", "json")
	var got struct {
		Period  struct{ From, To, Timezone string }
		Inbound struct{ Total int }
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	// 2025Q2 is April–June: only the June calls.
	if got.Period.From != "2025-04-01" || got.Period.To != "2025-07-01" || got.Period.Timezone != "UTC" || got.Inbound.Total != 2 {
		t.Errorf("got %+v", got)
	}
}
