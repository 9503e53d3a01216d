package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/helpline-it/helpline/blacklist"
	"github.com/helpline-it/helpline/callerid"
	"github.com/helpline-it/helpline/config"
	"github.com/helpline-it/helpline/internal/testenv"
)

const testHMACKey = "blacklist-cli-test-key-0123456789abcdef"

// cliAt runs the CLI in process with a fake clock at now.
func cliAt(t *testing.T, now time.Time, env map[string]string, args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := execute(context.Background(), args, &Deps{
		Stdin:  strings.NewReader(""),
		Stdout: &stdout,
		Stderr: &stderr,
		Getenv: func(k string) string { return env[k] },
		Clock:  clockwork.NewFakeClockAt(now),
	})
	return result{code, stdout.String(), stderr.String()}
}

// numberForms are the ways a raw number could leak.
func numberForms(n string) []string {
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, n)
	return []string{n, digits, digits[len(digits)-9:], digits[len(digits)-7:]}
}

func noNumber(t *testing.T, where, s string, numbers ...string) {
	t.Helper()
	for _, n := range numbers {
		for _, f := range numberForms(n) {
			if strings.Contains(s, f) {
				t.Errorf("%s holds the number (%q):\n%s", where, f, s)
			}
		}
	}
}

func TestBlacklistCLI(t *testing.T) {
	r := testenv.StartRedis(t)
	now := time.Date(2026, 11, 23, 14, 0, 0, 0, time.UTC)
	env := map[string]string{envHMACKey: testHMACKey, "USER": "admin1"}
	const blockedNumber, flaggedNumber = "+39 347 765 4321", "+39 02 4455 6677"
	hasher, err := callerid.NewHasher([]byte(testHMACKey))
	if err != nil {
		t.Fatal(err)
	}
	blockedHash, flaggedHash := hasher.Identify(blockedNumber).Hash, hasher.Identify(flaggedNumber).Hash
	base := []string{"blacklist", "--redis", r.Addr}
	run := func(args ...string) result {
		t.Helper()
		res := cliAt(t, now, env, append(cloneArgs(base), args...)...)
		noNumber(t, "output of "+strings.Join(args, " "), res.stdout+res.stderr, blockedNumber, flaggedNumber)
		return res
	}

	res := run("add", blockedNumber, "--reason", "threats to operators", "--for", "30d")
	if res.code != 0 || !strings.Contains(res.stdout, "blocked caller "+blockedHash[:12]+" until 2026-12-23 14:00 UTC (threats to operators)") {
		t.Fatalf("add: %+v", res)
	}

	// Operators flag another caller to the threshold (as the switchboard does).
	store, err := blacklist.NewRedis(r.Client(t), blacklist.RedisOptions{Prefix: "helpline",
		Policy: blacklist.Policy{Threshold: 3, Window: 30 * 24 * time.Hour, Block: 30 * 24 * time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	for i, op := range []string{"op1", "op2", "op1"} {
		kind := blacklist.Harassment
		if i == 1 {
			kind = blacklist.Prank
		}
		if _, err := store.Flag(context.Background(), blacklist.Flag{Hash: flaggedHash, Operator: op, Kind: kind, At: now.Add(-time.Duration(3-i) * time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}

	res = run("list")
	if res.code != 0 {
		t.Fatalf("list: %+v", res)
	}
	for _, want := range []string{blockedHash[:12] + "  admin", "threats to operators", "admin1", flaggedHash[:12] + "  flags", "3 flags within"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("list lacks %q:\n%s", want, res.stdout)
		}
	}
	if strings.Contains(res.stdout, blockedHash) {
		t.Error("list prints whole hashes; want them truncated")
	}

	// show by number, by hash:prefix, by a prefix with a letter.
	res = run("show", flaggedNumber)
	for _, want := range []string{"caller " + flaggedHash[:12], "blocked until 2026-12-23 13:00 by flags", "flags (3):",
		"2026-11-23 11:00  op1  harassment", "2026-11-23 12:00  op2  prank", "2026-11-23 13:00  op1  harassment"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("show lacks %q:\n%s", want, res.stdout)
		}
	}
	if res2 := run("show", "hash:"+flaggedHash[:10]); res2.stdout != res.stdout {
		t.Errorf("show by hash prefix:\n%s\nwant\n%s", res2.stdout, res.stdout)
	}
	res = run("show", blockedNumber)
	if !strings.Contains(res.stdout, "blocked until 2026-12-23 14:00 by admin1 (admin") || !strings.Contains(res.stdout, "no flags") {
		t.Errorf("show admin block:\n%s", res.stdout)
	}

	// remove by number, then the list no longer has it; twice is an error.
	if res = run("remove", blockedNumber); res.code != 0 || res.stdout != "unblocked caller "+blockedHash[:12]+"\n" {
		t.Errorf("remove: %+v", res)
	}
	if res = run("remove", blockedNumber); res.code != 1 || !strings.Contains(res.stderr, "is not blocked") {
		t.Errorf("remove again: %+v", res)
	}
	if res = run("remove", "hash:"+flaggedHash[:12]); res.code != 0 {
		t.Errorf("remove by prefix: %+v", res)
	}
	if res = run("list"); res.stdout != "no caller is blocked\n" {
		t.Errorf("list after removes: %q", res.stdout)
	}

	// Nothing in Redis holds a number in any form.
	c := r.Client(t)
	keys, err := c.Keys(context.Background(), "*").Result()
	if err != nil || len(keys) == 0 {
		t.Fatalf("keys %v %v", keys, err)
	}
	for _, k := range keys {
		v, err := c.Dump(context.Background(), k).Result()
		if err != nil {
			t.Fatal(err)
		}
		noNumber(t, "redis key "+k, k+"\n"+v, blockedNumber, flaggedNumber)
	}
}

func TestBlacklistCLIErrors(t *testing.T) {
	r := testenv.StartRedis(t)
	now := time.Date(2026, 11, 23, 14, 0, 0, 0, time.UTC)
	env := map[string]string{envHMACKey: testHMACKey}
	const number = "+39 347 765 4321"
	tests := []struct {
		name string
		env  map[string]string
		args []string
		code int
		want string
	}{
		{"no reason", env, []string{"add", number, "--for", "1d"}, 2, "missing --reason"},
		{"no expiry", env, []string{"add", number, "--reason", "x"}, 2, "exactly one of --until"},
		{"both expiries", env, []string{"add", number, "--reason", "x", "--for", "1d", "--until", "2027-01-01"}, 2, "exactly one of --until"},
		{"until in the past", env, []string{"add", number, "--reason", "x", "--until", "2026-01-01"}, 2, "not in the future"},
		{"bad until", env, []string{"add", number, "--reason", "x", "--until", "tomorrow"}, 2, "invalid --until"},
		{"bad for", env, []string{"add", number, "--reason", "x", "--for", "-3d"}, 2, "invalid --for"},
		{"no key", map[string]string{}, []string{"add", number, "--reason", "x", "--for", "1d"}, 2, "no HMAC key"},
		{"short key", map[string]string{envHMACKey: "short"}, []string{"add", number, "--reason", "x", "--for", "1d"}, 2, "at least 32"},
		{"withheld", env, []string{"add", "anonymous", "--reason", "x", "--for", "1d"}, 2, "withheld"},
		{"not a number", env, []string{"add", "12ab", "--reason", "x", "--for", "1d"}, 2, "not a phone number"},
		{"a hash to add", env, []string{"add", "hash:abcdef0123", "--reason", "x", "--for", "1d"}, 2, "not a hash"},
		{"unknown prefix", env, []string{"show", "hash:abcdef0123"}, 2, "no blocked caller's hash starts with abcdef0123"},
		{"no redis", env, []string{"list"}, 2, "missing --redis"},
		{"missing argument", env, []string{"show"}, 2, "missing argument CALLER"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"blacklist"}, tt.args[0])
			if tt.name != "no redis" {
				args = append(args, "--redis", r.Addr)
			}
			args = append(args, tt.args[1:]...)
			res := cliAt(t, now, tt.env, args...)
			if res.code != tt.code || !strings.Contains(res.stderr, tt.want) {
				t.Errorf("%v: %+v; want status %d and %q", args, res, tt.code, tt.want)
			}
			noNumber(t, "output", res.stdout+res.stderr, number)
		})
	}
	// Redis down: status 1, named.
	res := cliAt(t, now, env, "blacklist", "list", "--redis", "127.0.0.1:1")
	if res.code != 1 || !strings.Contains(res.stderr, "Redis at 127.0.0.1:1 cannot be reached") {
		t.Errorf("redis down: %+v", res)
	}
}

// TestBlacklistCLIConfig: --config gives Redis, the key prefix, the time
// zone and the HMAC key (from the environment variable it names).
func TestBlacklistCLIConfig(t *testing.T) {
	r := testenv.StartRedis(t)
	yaml := strings.Replace(string(config.ExampleYAML()), "addr: 127.0.0.1:6379", "addr: "+r.Addr, 1)
	yaml = strings.Replace(yaml, `key_prefix: "helpline:"`, `key_prefix: "hl-test:"`, 1)
	file := filepath.Join(t.TempDir(), "helpline.yaml")
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 23, 14, 0, 0, 0, time.UTC)
	env := map[string]string{"HELPLINE_HMAC_KEY": testHMACKey}
	res := cliAt(t, now, env, "blacklist", "add", "--config", file, "347 765 4321", "--reason", "prank calls", "--until", "2026-12-01")
	if res.code != 0 || !strings.Contains(res.stdout, "until 2026-12-01 00:00 CET") {
		t.Fatalf("add: %+v", res)
	}
	keys, err := r.Client(t).Keys(context.Background(), "hl-test:{blacklist}:*").Result()
	if err != nil || len(keys) == 0 {
		t.Errorf("no keys under the config's prefix: %v %v", keys, err)
	}
	// The same number written otherwise is the same caller.
	res = cliAt(t, now, env, "blacklist", "show", "--config", file, "+393477654321")
	if !strings.Contains(res.stdout, "blocked until 2026-12-01 00:00") {
		t.Errorf("show: %+v", res)
	}
}

func cloneArgs(s []string) []string { return append([]string(nil), s...) }
