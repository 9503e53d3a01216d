package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	"github.com/helpline-it/helpline/blacklist"
	"github.com/helpline-it/helpline/config"
)

// blacklistOptions are the flags every blacklist subcommand shares.
type blacklistOptions struct {
	configFile, redisAddr, prefix, keyFile string
}

func newBlacklistCmd(d *Deps) *cobra.Command {
	o := &blacklistOptions{}
	cmd := &cobra.Command{
		Use:   "blacklist",
		Short: "Block, unblock and inspect callers (administrators)",
		Long: `Manages the blocklist that turns callers away before the phone is answered.

Callers are known only by the keyed hash of their number: 'add' takes a raw
number to hash it (with the HMAC key of 'helpline serve') and never prints
or stores it. Blocks made by operators' flags (N flags within W days) and by
administrators both expire; 'remove' lifts either at once.

A CALLER argument is a phone number, or a hash: the 64 hex digits, or a
prefix of at least 8 as 'list' prints it, written hash:PREFIX (a prefix with
a letter a-f may go without "hash:").

Redis and the HMAC key come from --config (redis.*, privacy.hmac_key), or
from --redis ADDR and the key in $HELPLINE_HMAC_KEY or --hmac-key-file.`,
		Example: `  helpline blacklist add --config /etc/helpline/helpline.yaml "+39 347 765 4321" --reason "threats to operators" --for 90d
  helpline blacklist list --redis 127.0.0.1:6379
  helpline blacklist show --redis 127.0.0.1:6379 hash:5f0c2e1a9b7d
  helpline blacklist remove --config helpline.yaml 5f0c2e1a9b7d`,
	}
	f := cmd.PersistentFlags()
	f.StringVar(&o.configFile, "config", "", "helpline YAML configuration (Redis, HMAC key, time zone, flag policy)")
	f.StringVar(&o.redisAddr, "redis", "", "Redis address host:port or unix socket path (overrides the config's redis.addr)")
	f.StringVar(&o.prefix, "prefix", "", `Redis key prefix (default: the config's redis.key_prefix, else "helpline")`)
	f.StringVar(&o.keyFile, "hmac-key-file", "", "file holding the HMAC key (default: config, else $"+envHMACKey+")")
	cmd.AddCommand(newBlacklistAddCmd(d, o), newBlacklistRemoveCmd(d, o), newBlacklistListCmd(d, o), newBlacklistShowCmd(d, o))
	return cmd
}

// blacklistEnv is what the flags resolve to.
type blacklistEnv struct {
	cfg    *config.Config
	client *redis.Client
	store  *blacklist.Redis
	addr   string
	loc    *time.Location
}

func (e *blacklistEnv) close() {
	if e.client != nil {
		_ = e.client.Close()
	}
}

// openBlacklist connects to the blacklist in Redis.
func openBlacklist(c *cobra.Command, d *Deps, o *blacklistOptions) (*blacklistEnv, error) {
	redis.SetLogger(silentRedis{})
	e := &blacklistEnv{loc: time.UTC}
	if o.configFile != "" {
		cfg, err := loadConfig(c, d, o.configFile)
		if err != nil {
			return nil, err
		}
		e.cfg, e.loc = cfg, cfg.Location
	}
	if o.redisAddr == "" && e.cfg == nil {
		return nil, usageErrorf("%smissing --redis ADDR or --config FILE", prefix(c))
	}
	ro := &redis.Options{DialTimeout: 2 * time.Second, ReadTimeout: 2 * time.Second, WriteTimeout: 2 * time.Second, MaxRetries: 1}
	keyPrefix := "helpline"
	policy := blacklist.Policy{Threshold: 3, Window: 30 * 24 * time.Hour, Block: 30 * 24 * time.Hour}
	if e.cfg != nil {
		ro.Network, ro.Addr = e.cfg.Redis.Network()
		ro.DB = e.cfg.Redis.DB
		if e.cfg.Redis.Password.IsSet() {
			pw, err := e.cfg.Redis.Password.Resolve(d.Getenv)
			if err != nil {
				return nil, usageErrorf("%s--config %s: %v", prefix(c), o.configFile, err)
			}
			ro.Password = pw.Reveal()
		}
		keyPrefix = redisPrefix(e.cfg)
		policy = blacklistPolicy(e.cfg)
	}
	if o.redisAddr != "" {
		ro.Network, ro.Addr = config.Redis{Addr: o.redisAddr}.Network()
	}
	if o.prefix != "" {
		keyPrefix = strings.TrimRight(o.prefix, ":")
	}
	e.addr = ro.Addr
	e.client = redis.NewClient(ro)
	s, err := blacklist.NewRedis(e.client, blacklist.RedisOptions{Prefix: keyPrefix, Policy: policy})
	if err != nil {
		e.close()
		return nil, usageErrorf("%s%v", prefix(c), err)
	}
	e.store = s
	return e, nil
}

// storeError names Redis when it could not be reached.
func (e *blacklistEnv) storeError(c *cobra.Command, err error) error {
	if blacklist.IsUnavailable(err) {
		return fmt.Errorf("%sRedis at %s cannot be reached: %w", prefix(c), e.addr, err)
	}
	return fmt.Errorf("%s%w", prefix(c), err)
}

// caller resolves a CALLER argument to a hash. A number is hashed (and
// then forgotten); a hash prefix must match exactly one block.
func (e *blacklistEnv) caller(c *cobra.Command, d *Deps, o *blacklistOptions, arg string) (string, error) {
	ctx := c.Context()
	arg = strings.TrimSpace(arg)
	if p, ok := hashArg(arg); ok {
		if len(p) == 64 {
			return p, nil
		}
		list, err := e.store.List(ctx, d.Clock.Now())
		if err != nil {
			return "", e.storeError(c, err)
		}
		var found []string
		for _, en := range list {
			if strings.HasPrefix(en.Hash, p) {
				found = append(found, en.Hash)
			}
		}
		switch len(found) {
		case 0:
			return "", usageErrorf("%sno blocked caller's hash starts with %s (see 'helpline blacklist list')", prefix(c), p)
		case 1:
			return found[0], nil
		}
		return "", usageErrorf("%s%d blocked callers' hashes start with %s: give more digits", prefix(c), len(found), p)
	}
	h, err := hmacKey(c, d, o.keyFile, e.cfg)
	if err != nil {
		return "", err
	}
	id := h.Identify(arg)
	if id.Withheld {
		return "", usageErrorf("%sthe caller given is withheld or anonymous: such callers are never blocked", prefix(c))
	}
	if !id.Valid {
		return "", usageErrorf("%sthe caller given is not a phone number (nor a hash:PREFIX)", prefix(c))
	}
	return id.Hash, nil
}

// hashArg reads a hash or a hash prefix: "hash:" and 8–64 hex digits, or
// 8–64 lowercase hex digits with at least one letter (a phone number has
// none).
func hashArg(s string) (string, bool) {
	p, explicit := strings.CutPrefix(s, "hash:")
	p = strings.ToLower(p)
	if len(p) < 8 || len(p) > 64 {
		return "", false
	}
	letter := false
	for _, r := range p {
		switch {
		case r >= 'a' && r <= 'f':
			letter = true
		case r >= '0' && r <= '9':
		default:
			return "", false
		}
	}
	return p, explicit || letter || len(p) == 64
}

// shortHash is how hashes are printed: enough to tell them apart.
func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

func newBlacklistAddCmd(d *Deps, o *blacklistOptions) *cobra.Command {
	var reason, until, by string
	var dur string
	cmd := &cobra.Command{
		Use:   "add NUMBER",
		Short: "Block a caller by number (hashed; the number is never stored)",
		Long: `Blocks the caller with NUMBER until --until (a date or time in the service's
time zone) or for --for (a duration: 90d, 12h). --reason is required. The
number is hashed with the service's HMAC key and then forgotten: only the
hash reaches Redis, and the output shows only its start.`,
		Example: `  helpline blacklist add --config helpline.yaml "+39 347 765 4321" --reason "threats" --for 90d
  helpline blacklist add --redis 127.0.0.1:6379 3477654321 --reason "prank calls" --until 2027-01-31`,
		Args: argsNamed("NUMBER"),
		RunE: func(c *cobra.Command, args []string) error {
			if strings.TrimSpace(reason) == "" {
				return usageErrorf("%smissing --reason (why this caller is blocked)", prefix(c))
			}
			if (until == "") == (dur == "") {
				return usageErrorf("%sgive exactly one of --until DATE and --for DURATION: every block must expire", prefix(c))
			}
			if _, ok := hashArg(args[0]); ok {
				return usageErrorf("%sadd takes a phone number, not a hash", prefix(c))
			}
			e, err := openBlacklist(c, d, o)
			if err != nil {
				return err
			}
			defer e.close()
			now := d.Clock.Now()
			end, err := blockEnd(now, until, dur, e.loc)
			if err != nil {
				return usageErrorf("%s%v", prefix(c), err)
			}
			hash, err := e.caller(c, d, o, args[0])
			if err != nil {
				return err
			}
			if by == "" {
				by = d.Getenv("USER")
			}
			if by == "" {
				by = "admin"
			}
			entry := blacklist.Entry{Hash: hash, Reason: reason, Source: blacklist.SourceAdmin, Until: end, Created: now, By: by}
			if err := e.store.Add(c.Context(), entry); err != nil {
				return e.storeError(c, err)
			}
			_, err = fmt.Fprintf(d.Stdout, "blocked caller %s until %s (%s)\n", shortHash(hash), end.In(e.loc).Format("2006-01-02 15:04 MST"), reason)
			return err
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why the caller is blocked (required)")
	cmd.Flags().StringVar(&until, "until", "", "end of the block: 2006-01-02, 2006-01-02T15:04 (service time zone) or RFC 3339")
	cmd.Flags().StringVar(&dur, "for", "", "length of the block: 90d, 36h, 1d12h")
	cmd.Flags().StringVar(&by, "by", "", "who blocks, for the record (default $USER)")
	return cmd
}

// blockEnd reads --until or --for; the end must be in the future.
func blockEnd(now time.Time, until, dur string, loc *time.Location) (time.Time, error) {
	if dur != "" {
		d, err := config.ParseDuration(dur)
		if err != nil || d <= 0 {
			return time.Time{}, fmt.Errorf("invalid --for %q: want a positive duration such as 90d or 12h", dur)
		}
		return now.Add(d), nil
	}
	var end time.Time
	var err error
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"} {
		if layout == time.RFC3339 {
			end, err = time.Parse(layout, until)
		} else {
			end, err = time.ParseInLocation(layout, until, loc)
		}
		if err == nil {
			break
		}
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("invalid --until %q: want 2006-01-02, 2006-01-02T15:04 or RFC 3339", until)
	}
	if !end.After(now) {
		return time.Time{}, fmt.Errorf("--until %s is not in the future", until)
	}
	return end, nil
}

func newBlacklistRemoveCmd(d *Deps, o *blacklistOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "remove CALLER",
		Short: "Lift a caller's block at once (whoever made it)",
		Long: `Lifts the block of CALLER (a number, or a hash as 'list' prints it). The
flags operators made stay on record until they age out of the policy window.`,
		Example: `  helpline blacklist remove --config helpline.yaml "+39 347 765 4321"
  helpline blacklist remove --redis 127.0.0.1:6379 hash:5f0c2e1a9b7d`,
		Args: argsNamed("CALLER"),
		RunE: func(c *cobra.Command, args []string) error {
			e, err := openBlacklist(c, d, o)
			if err != nil {
				return err
			}
			defer e.close()
			hash, err := e.caller(c, d, o, args[0])
			if err != nil {
				return err
			}
			if err := e.store.Remove(c.Context(), hash); err != nil {
				if errors.Is(err, blacklist.ErrNotFound) {
					return fmt.Errorf("%scaller %s is not blocked", prefix(c), shortHash(hash))
				}
				return e.storeError(c, err)
			}
			_, err = fmt.Fprintf(d.Stdout, "unblocked caller %s\n", shortHash(hash))
			return err
		},
	}
}

func newBlacklistListCmd(d *Deps, o *blacklistOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the blocks in force",
		Long: `Lists the blocks in force now, oldest first: the caller's hash (its first 12
hex digits), who made it (admin or flags), until when, by whom and why.`,
		Example: `  helpline blacklist list --config /etc/helpline/helpline.yaml`,
		Args:    argsNamed(),
		RunE: func(c *cobra.Command, _ []string) error {
			e, err := openBlacklist(c, d, o)
			if err != nil {
				return err
			}
			defer e.close()
			list, err := e.store.List(c.Context(), d.Clock.Now())
			if err != nil {
				return e.storeError(c, err)
			}
			if len(list) == 0 {
				_, err := fmt.Fprintln(d.Stdout, "no caller is blocked")
				return err
			}
			tw := tabwriter.NewWriter(d.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "CALLER\tSOURCE\tSINCE\tUNTIL\tBY\tREASON")
			for _, en := range list {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", shortHash(en.Hash), en.Source,
					en.Created.In(e.loc).Format("2006-01-02 15:04"), en.Until.In(e.loc).Format("2006-01-02 15:04"),
					oneLine(en.By), oneLine(en.Reason))
			}
			return tw.Flush()
		},
	}
}

func newBlacklistShowCmd(d *Deps, o *blacklistOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "show CALLER",
		Short: "Show why a caller is blocked: the block and the operators' flags",
		Long: `Shows CALLER's block, if any, and the flags operators made against them (when,
who, which kind) that the policy still counts.`,
		Example: `  helpline blacklist show --config helpline.yaml hash:5f0c2e1a9b7d`,
		Args:    argsNamed("CALLER"),
		RunE: func(c *cobra.Command, args []string) error {
			e, err := openBlacklist(c, d, o)
			if err != nil {
				return err
			}
			defer e.close()
			hash, err := e.caller(c, d, o, args[0])
			if err != nil {
				return err
			}
			return showCaller(c.Context(), d.Stdout, e, hash, d.Clock.Now())
		},
	}
}

func showCaller(ctx context.Context, w io.Writer, e *blacklistEnv, hash string, now time.Time) error {
	entry, blocked, err := e.store.Blocked(ctx, hash, now)
	if err != nil {
		return fmt.Errorf("blacklist show: %w", err)
	}
	flags, err := e.store.Flags(ctx, hash)
	if err != nil {
		return fmt.Errorf("blacklist show: %w", err)
	}
	fmt.Fprintf(w, "caller %s\n", shortHash(hash))
	if blocked {
		fmt.Fprintf(w, "blocked until %s by %s (%s, since %s): %s\n", entry.Until.In(e.loc).Format("2006-01-02 15:04"),
			oneLine(entry.By), entry.Source, entry.Created.In(e.loc).Format("2006-01-02 15:04"), oneLine(entry.Reason))
	} else {
		fmt.Fprintln(w, "not blocked")
	}
	if len(flags) == 0 {
		_, err := fmt.Fprintln(w, "no flags")
		return err
	}
	fmt.Fprintf(w, "flags (%d):\n", len(flags))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, f := range flags {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", f.At.In(e.loc).Format("2006-01-02 15:04"), oneLine(f.Operator), f.Kind)
	}
	return tw.Flush()
}

// silentRedis drops go-redis's own log lines ("failed to dial …"): the
// command says the same once, in its words.
type silentRedis struct{}

func (silentRedis) Printf(context.Context, string, ...any) {}
