package main

import (
	"encoding/json"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// dashboardFile is the Grafana dashboard shipped for `helpline serve`.
const dashboardFile = "../../deploy/grafana/helpline.json"

// parseMetrics reads a Prometheus text exposition into series (as
// written: name{labels}) → value, and the set of metric names it holds
// (histogram series under their _bucket/_sum/_count names).
func parseMetrics(t *testing.T, body string) (series map[string]float64, names map[string]bool) {
	t.Helper()
	series, names = map[string]float64{}, map[string]bool{}
	for _, line := range strings.Split(body, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			t.Fatalf("malformed metrics line %q", line)
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		key := line[:i]
		series[key] = v
		name, _, _ := strings.Cut(key, "{")
		names[name] = true
	}
	return series, names
}

// wantSeries asserts that every series of want is in body with its value.
func wantSeries(t *testing.T, body string, want map[string]float64) {
	t.Helper()
	series, _ := parseMetrics(t, body)
	for k, v := range want {
		if got, ok := series[k]; !ok || got != v {
			t.Errorf("/metrics: %s = %v (present %v), want %v", k, got, ok, v)
		}
	}
}

// metricName matches the helpline series a PromQL expression queries.
var metricName = regexp.MustCompile(`\bhelpline_[a-z0-9_]+`)

// checkDashboard asserts that the Grafana dashboard is valid JSON with
// panels, and that every helpline metric its queries (and variables)
// name is exported by the node whose /metrics is body.
func checkDashboard(t *testing.T, body string) {
	t.Helper()
	raw, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Title  string `json:"title"`
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
		Templating struct {
			List []struct {
				Definition string `json:"definition"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	if d.Title == "" || len(d.Panels) == 0 {
		t.Fatalf("%s: no title or no panels", dashboardFile)
	}
	_, names := parseMetrics(t, body)
	var exprs []string
	for _, p := range d.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q queries nothing", p.Title)
		}
		for _, tg := range p.Targets {
			if tg.Expr == "" {
				t.Errorf("panel %q has an empty query", p.Title)
			}
			exprs = append(exprs, tg.Expr)
		}
	}
	for _, v := range d.Templating.List {
		exprs = append(exprs, v.Definition)
	}
	queried := 0
	for _, e := range exprs {
		for _, name := range metricName.FindAllString(e, -1) {
			queried++
			if !names[name] {
				t.Errorf("dashboard queries %s, which the node does not export", name)
			}
		}
	}
	if queried == 0 {
		t.Error("the dashboard queries no helpline metric")
	}
}
