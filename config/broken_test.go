package config

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	_ "time/tzdata" // the tests must not depend on the host's zoneinfo
)

// TestBrokenFiles checks that every broken file under testdata/ produces
// exactly the expected lines: all problems at once, each with its line and
// key path, and nothing else.
func TestBrokenFiles(t *testing.T) {
	tests := []struct {
		file string
		want []string // each line after the file name
	}{
		{"bad_hours", []string{
			`:17: languages.fr.hours[0].from: "25:00" is not a time of day`,
			`:18: languages.fr.hours[1].to: "10:00" is not after from "14:00"; a window cannot cross midnight, split it in two`,
			`:19: languages.fr.hours[2].days[1]: "tues" is not a day (mon, tue, wed, thu, fri, sat, sun, or a range like mon-fri)`,
			`:19: languages.fr.hours[2].from: "8" is not a time of day`,
			`:19: languages.fr.hours[2].to: "24:01" is not a time of day`,
			`:20: languages.fr.hours[3].days[1]: mon is listed twice`,
			`:21: languages.fr.hours[4].days: missing (a window is {days: [mon-fri], from: "08:00", to: "20:00"})`,
			`:21: languages.fr.hours[4].to: missing (a window is {days: [mon-fri], from: "08:00", to: "20:00"})`,
			`:24: languages.de.hours: expected "always" or a list of windows ({days, from, to}), got "never"`,
			`:27: languages.es.hours: no windows; write always or list at least one window`,
		}},
		{"unknown_keys", []string{
			`:2: servce: unknown key (did you mean "service"?)`,
			`:7: ari.timeout: unknown key (known keys: app, password_env, password_file, url, username)`,
			`:11: languages.it.colour: unknown key (known keys: digit, hours, name)`,
			`:13: queue.ring_timout: unknown key (did you mean "ring_timeout"?)`,
			`:15: operators[0].extension: unknown key (known keys: endpoint, id, languages, name)`,
			`:16: frobnicate: unknown key (known keys: ari, blacklist, cdr, feature_codes, http, ivr, languages, node_id, nodes, operators, privacy, prompts, queue, redis, service, timezone, trunk)`,
		}},
		{"wrong_types", []string{
			`:1: service: expected a string, got a list`,
			`:6: privacy: expected a mapping of keys, got a string`,
			`:8: http.allow_public: expected true or false, got "yes"`,
			`:12: ivr.menu_tries: expected a whole number, got "three"`,
			`:13: ivr.digit_timeout: "5" is not a duration (e.g. 90s, 15m, 2h, 30d)`,
			`:14: ivr.welcome_languages: expected a list of strings, got "it"`,
			`:16: queue.ring_timeout: expected a duration, got a list`,
			`:17: queue.auto_pause_on_no_answer: expected true or false, got the number 1`,
			`:19: redis.db: expected a whole number, got the number 1.5`,
			`:21: operators: expected a list of operators, got a mapping`,
		}},
		{"impossible", []string{
			`:3: ari.url: "ftp://127.0.0.1:8088" is not an http:// or https:// URL`,
			`:11: ivr.menu_tries: must be at least 1`,
			`:12: ivr.digit_timeout: must be greater than 0`,
			`:13: ivr.max_wait: "-5m" is negative; durations are 0 or more`,
			`:14: ivr.voicemail_digit: "12" is not one key (0-9, * or #; "" turns voicemail off)`,
			`:16: queue.ring_timeout: must be greater than 0`,
			`:17: queue.wrap_up: "-30s" is negative; durations are 0 or more`,
			`:18: queue.longest_wait_alert: "2 minutes" is not a duration (e.g. 90s, 15m, 2h, 30d)`,
			`:20: blacklist.rejection: "silence" is not busy, congestion or message`,
			`:21: blacklist.flags_threshold: must be at least 1`,
			`:22: blacklist.window: must be greater than 0`,
			`:23: blacklist.block_duration: "30days" is not a duration (e.g. 90s, 15m, 2h, 30d)`,
			`:25: cdr.driver: "mysql" is not a driver (sqlite or postgres)`,
			`:27: redis.addr: "localhost" is not host:port`,
			`:28: redis.db: -1 is negative`,
			`:29: redis.key_prefix: "{helpline}:" must not contain spaces or braces`,
		}},
		{"secrets", []string{
			`:3: ari.url: must not contain credentials; set ari.username and ari.password_env or ari.password_file`,
			`:5: ari.password: secrets must not be written in the configuration file; set password_env (the name of an environment variable) or password_file (the path of a file) instead`,
			`:7: privacy.hmac_key: secrets must not be written in the configuration file; set hmac_key_env (the name of an environment variable) or hmac_key_file (the path of a file) instead`,
			`:8: privacy.key: secrets must not be written in the configuration file; set hmac_key_env (the name of an environment variable) or hmac_key_file (the path of a file) instead`,
			`:10: http.admin_token: secrets must not be written in the configuration file; set admin_token_env (the name of an environment variable) or admin_token_file (the path of a file) instead`,
			`:12: redis.password: secrets must not be written in the configuration file; set password_env (the name of an environment variable) or password_file (the path of a file) instead`,
			`:13: redis.password_env: is not an environment variable name (letters, digits and _, not starting with a digit)`,
			`:16: cdr.dsn: contains a password; remove it and set cdr.password_env or cdr.password_file`,
			`:18: cdr.password_file: set only one of password_env and password_file`,
			`:22: trunk.secret: SIP credentials belong in Asterisk's pjsip.conf, not in this file`,
			`:24: operators[0].password: SIP credentials belong in Asterisk's pjsip.conf, not in this file`,
		}},
		{"secret_alias", []string{
			`:4: privacy.key: secrets must not be written in the configuration file; set hmac_key_env (the name of an environment variable) or hmac_key_file (the path of a file) instead`,
		}},
		{"references", []string{
			`:2: timezone: unknown time zone "Europe/Roma"`,
			`:12: languages.fr.digit: digit 2 is already used by languages.en`,
			`:13: languages.de: no operator answers in "de", so its queue would never be answered; add it to an operator's languages`,
			`:14: ivr.default_language: "it" must have hours: always, since callers who choose nothing go there`,
			`:15: ivr.welcome_languages[1]: "sq" is not defined under languages`,
			`:17: operators[0].languages[2]: "pt" is not defined under languages`,
			`:18: operators[1].id: "op1" is already the id of operators[0]`,
			`:18: operators[1].languages[1]: "fr" is listed twice`,
			`:19: operators[2].endpoint: "pjsip/op1" is already the endpoint of operators[0]`,
			`:21: prompts.pt: "pt" is not defined under languages`,
		}},
		{"feature_codes", []string{
			`:14: feature_codes.logout: "*11" is already the code of feature_codes.login`,
			`:15: feature_codes.pause: has no value; quote feature codes ("#13"): an unquoted # starts a comment`,
			`:16: feature_codes.flag_harassment: "*1" starts like feature_codes.login "*11", so a dialled string could mean either`,
			`:17: feature_codes.flag_prank: "**15a" is not dialable (digits, * and #, at most 16)`,
			`:18: feature_codes.call_service: "*2" starts like feature_codes.warm_transfer "*22", so a dialled string could mean either`,
			`:19: feature_codes.blind_transfer: "*21" starts like feature_codes.call_service "*2", so a dialled string could mean either`,
			`:21: trunk.dial: "PJSIP/trunk" is not a dial string with one {number}, e.g. PJSIP/{number}@trunk`,
			`:22: trunk.caller_id: "15-22" is not a phone number`,
		}},
		{"unquoted_code", []string{
			`:4: invalid YAML: *12 is read as an alias; quote values starting with * ("*12")`,
		}},
		{"syntax", []string{
			`:4: invalid YAML: did not find expected ',' or ']'`,
		}},
		{"empty", []string{
			": the file is empty; start from `helpline config example`",
		}},
		{"not_a_mapping", []string{
			`:1: expected a mapping of keys (service, ari, languages, …) at the top of the file, got a list`,
		}},
		{"two_documents", []string{
			`:2: a second YAML document starts here; keep the whole configuration in one`,
		}},
		{"missing", []string{
			`: service: missing: name the service stamped on every call record (e.g. "1522")`,
			`: ari.url: missing: the base URL of Asterisk's HTTP server, e.g. http://127.0.0.1:8088`,
			`: ari.username: missing: the ARI user from Asterisk's ari.conf`,
			`: ari.password_env: missing: set password_env (an environment variable) or password_file (a file) to say where the secret is`,
			`: privacy.hmac_key_env: missing: set hmac_key_env (an environment variable) or hmac_key_file (a file) to say where the secret is`,
			`: languages: missing: define at least one language (e.g. it: {name: Italiano, digit: 1, hours: always})`,
			`: operators: missing: list at least one operator ({id, name, endpoint, languages})`,
		}},
		{"http_public", []string{
			`:8: privacy.hmac_key_file: set only one of hmac_key_env and hmac_key_file`,
			`:10: http.listen: "0.0.0.0:9522" is not a loopback address; set http.allow_public: true to serve health and metrics beyond this host`,
		}},
		{"public_no_token", []string{
			`:10: http.allow_public: a public listener needs http.admin_token_env or http.admin_token_file`,
		}},
		{"prompts", []string{
			`:15: prompts.it.welcom: unknown key (did you mean "welcome"?)`,
			`:16: prompts.it.menu: {digits} cannot be filled in: this prompt knows {digit}`,
			`:17: prompts.it.queue_enter.sound: "helpline/it/hold" is not an ARI media URI (sound:…, recording:…, tone:…, digits:…, number:…)`,
			`:18: prompts.it.unavailable: says nothing; give a text, a sound or both`,
			`:19: prompts.it.queue_wait: {digit} cannot be filled in: this prompt knows {minutes}`,
			`:20: prompts.it.queue_position.sound[1]: {minutes} cannot be filled in: this prompt knows {position}`,
			`:22: prompts.sq: there are no built-in prompts for "sq"; write these under prompts.sq: welcome, invalid_choice, queue_enter, queue_position, queue_wait, voicemail_offer, voicemail_record, voicemail_saved, unavailable`,
		}},
		{"postgres", []string{
			`:8: cdr.dsn: missing: driver postgres needs a connection string, e.g. postgres://helpline@db/helpline`,
			`:10: cdr.path: is for driver sqlite; driver postgres uses cdr.dsn`,
		}},
	}
	line := regexp.MustCompile(`^(.+?)(?::(\d+))?: (?:([a-z_\[\].0-9]+): )?(.+)$`)
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			name := filepath.Join("testdata", tt.file+".yaml")
			c, err := Load(name)
			if err == nil {
				t.Fatalf("Load(%s) = %+v, want errors", name, c)
			}
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("Load(%s) error is %T, want config.Errors: %v", name, err, err)
			}
			got := strings.Split(err.Error(), "\n")
			want := make([]string, len(tt.want))
			for i, w := range tt.want {
				want[i] = name + w
			}
			if !slices.Equal(got, want) {
				t.Errorf("Load(%s) errors:\n%s\nwant:\n%s", name, strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			if len(errs) != len(got) {
				t.Errorf("%d items for %d lines", len(errs), len(got))
			}
			for _, e := range errs {
				if e.File != name || e.Msg == "" || strings.Contains(e.Error(), "\n") {
					t.Errorf("malformed item %#v", e)
				}
				if m := line.FindStringSubmatch(e.Error()); m == nil || m[3] != e.Path {
					t.Errorf("item %q does not read as file:line: path: message (path %q)", e.Error(), e.Path)
				}
			}
		})
	}
}

// TestSecretsNeverEchoed checks that secrets written in the file, or
// pasted into the wrong key, do not appear in the errors (which end up in
// CI logs and tickets).
func TestSecretsNeverEchoed(t *testing.T) {
	_, err := Load("testdata/secrets.yaml")
	if err == nil {
		t.Fatal("secrets.yaml loaded without error")
	}
	for _, secret := range []string{"hunter2", "9f8e7d6c5b4a", "1f8e7d6c5b4a", "s3cr3t-token", "r3dis-pass", "pg-pass", "sip-pass", "trunk-pass"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("errors show the secret %q:\n%v", secret, err)
		}
	}
}

// TestTooManyErrors checks that hostile or foreign input gives a bounded
// answer that says it was cut.
func TestTooManyErrors(t *testing.T) {
	var b strings.Builder
	for i := range 150 {
		fmt.Fprintf(&b, "key%d: x\n", i)
	}
	_, err := Parse("big.yaml", []byte(b.String()))
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("Parse error = %v, want Errors", err)
	}
	if len(errs) != maxErrors+1 {
		t.Fatalf("got %d errors, want %d", len(errs), maxErrors+1)
	}
	if last := errs[maxErrors].Error(); !strings.Contains(last, "more problems not shown") {
		t.Errorf("last error = %q, want the cut notice", last)
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load("testdata/does-not-exist.yaml")
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Load error = %v, want fs.ErrNotExist", err)
	}
	var errs Errors
	if errors.As(err, &errs) {
		t.Errorf("a missing file is not a configuration error: %v", err)
	}
}
