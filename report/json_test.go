package report

import (
	"bytes"
	"encoding/json"
	"testing"
)

// TestJSONShape pins the documented keys of the JSON report, so that a
// regenerated golden file cannot drop or rename one unnoticed.
func TestJSONShape(t *testing.T) {
	res := seedResult(t)
	var buf bytes.Buffer
	if err := WriteJSON(&buf, &res); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	get := func(path ...string) any {
		t.Helper()
		var v any = doc
		for _, k := range path {
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("%v: %v is not an object", path, v)
			}
			if v, ok = m[k]; !ok {
				t.Fatalf("missing key %v", path)
			}
		}
		return v
	}
	num := func(want float64, path ...string) {
		t.Helper()
		if got, ok := get(path...).(float64); !ok || got != want {
			t.Errorf("%v = %v; want %v", path, get(path...), want)
		}
	}
	str := func(want string, path ...string) {
		t.Helper()
		if got := get(path...); got != want {
			t.Errorf("%v = %v; want %q", path, got, want)
		}
	}
	null := func(path ...string) {
		t.Helper()
		if got := get(path...); got != nil {
			t.Errorf("%v = %v; want null", path, got)
		}
	}
	str("2025-06-01", "period", "from")
	str("2025-09-01", "period", "to")
	str("Europe/Rome", "period", "timezone")
	for k, v := range map[string]float64{"total": 34620, "queued": 18455, "answered": 15911, "unanswered": 943,
		"voicemail": 59, "abandoned": 1542, "blacklisted": 6178, "welcome_hangup": 9987} {
		num(v, "inbound", k)
	}
	num(53.3, "inbound", "shares_of_total", "queued")
	num(17.8, "inbound", "shares_of_total", "blacklisted")
	num(28.9, "inbound", "shares_of_total", "welcome_hangup")
	num(86.2, "inbound", "shares_of_queued", "answered")
	num(5.1, "inbound", "shares_of_queued", "unanswered")
	num(0.3, "inbound", "shares_of_queued", "voicemail")
	num(8.4, "inbound", "shares_of_queued", "abandoned")
	num(5739510, "talk", "total_seconds")
	num(360.7, "talk", "average_seconds")
	num(36.5, "wait", "average_seconds")
	for _, d := range []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"} {
		if h, ok := get("by_weekday_hour", d).([]any); !ok || len(h) != 24 {
			t.Errorf("by_weekday_hour.%s = %v; want 24 counts", d, get("by_weekday_hour", d))
		}
	}
	if mon, sun := get("by_weekday_hour", "mon").([]any), get("by_weekday_hour", "sun").([]any); mon[0] != 173.0 || sun[23] != 151.0 {
		t.Errorf("mon 0:00 = %v, sun 23:00 = %v; want 173, 151", mon[0], sun[23])
	}
	for k, v := range map[string]float64{"answered": 908, "busy": 115, "no_answer": 359, "failed": 0,
		"total": 1382, "answered_share": 65.7, "talk_seconds": 135741} {
		num(v, "outbound", k)
	}
	null("previous", "total")
	null("previous", "change_percent")
}
