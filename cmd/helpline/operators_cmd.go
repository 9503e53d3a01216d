package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/helpline-it/helpline/config"
	"github.com/helpline-it/helpline/queue"
)

// operatorsOptions are the flags of `helpline operators`.
type operatorsOptions struct {
	configFile, redisAddr, prefix, service string
}

func newOperatorsCmd(d *Deps) *cobra.Command {
	o := &operatorsOptions{}
	cmd := &cobra.Command{
		Use:   "operators",
		Short: "List the operators with their state and how long they have been in it",
		Long: `Prints one line per operator: id, name, state (available, ringing, busy,
wrapup, paused, logged_out), how long they have been in that state, their
language skills and a detail (the pause reason, the end of the wrap-up, the
call they are on).

The states are read from the queue in Redis, where they survive a restart of
'helpline serve'. With --config, operators of the configuration who are not
logged in are listed too.`,
		Example: `  helpline operators --config /etc/helpline/helpline.yaml
  helpline operators --redis 127.0.0.1:6379 --service 1522`,
		Args: argsNamed(),
		RunE: func(c *cobra.Command, _ []string) error { return runOperators(c, d, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.configFile, "config", "", "helpline YAML configuration (Redis, service, operators' names)")
	f.StringVar(&o.redisAddr, "redis", "", "Redis address host:port or unix socket path (overrides the config's redis.addr)")
	f.StringVar(&o.prefix, "prefix", "", `Redis key prefix (default: the config's redis.key_prefix, else "helpline")`)
	f.StringVar(&o.service, "service", "", "service whose operators to list (default: the config's service)")
	return cmd
}

func runOperators(c *cobra.Command, d *Deps, o *operatorsOptions) error {
	redis.SetLogger(silentRedis{})
	var cfg *config.Config
	if o.configFile != "" {
		var err error
		if cfg, err = loadConfig(c, d, o.configFile); err != nil {
			return err
		}
	}
	if o.redisAddr == "" && cfg == nil {
		return usageErrorf("%smissing --redis ADDR or --config FILE", prefix(c))
	}
	service := o.service
	if service == "" && cfg != nil {
		service = cfg.Service
	}
	if service == "" {
		return usageErrorf("%smissing --service (or --config)", prefix(c))
	}
	ro := &redis.Options{DialTimeout: 2 * time.Second, ReadTimeout: 2 * time.Second, WriteTimeout: 2 * time.Second, MaxRetries: 1}
	keyPrefix := "helpline"
	loc := time.UTC
	if cfg != nil {
		ro.Network, ro.Addr = cfg.Redis.Network()
		ro.DB = cfg.Redis.DB
		if cfg.Redis.Password.IsSet() {
			pw, err := cfg.Redis.Password.Resolve(d.Getenv)
			if err != nil {
				return usageErrorf("%s--config %s: %v", prefix(c), o.configFile, err)
			}
			ro.Password = pw.Reveal()
		}
		keyPrefix, loc = redisPrefix(cfg), cfg.Location
	}
	if o.redisAddr != "" {
		ro.Network, ro.Addr = config.Redis{Addr: o.redisAddr}.Network()
	}
	if o.prefix != "" {
		keyPrefix = strings.TrimRight(o.prefix, ":")
	}
	client := redis.NewClient(ro)
	defer client.Close()
	q, err := queue.NewRedis(client, queue.RedisOptions{Prefix: keyPrefix, Service: service, Logger: zerolog.Nop()})
	if err != nil {
		return usageErrorf("%s%v", prefix(c), err)
	}
	ctx := c.Context()
	now := d.Clock.Now()
	snap, err := q.Snapshot(ctx, now)
	if err != nil {
		if queue.IsUnavailable(err) {
			return fmt.Errorf("%sRedis at %s cannot be reached: %w", prefix(c), ro.Addr, err)
		}
		return fmt.Errorf("%s%w", prefix(c), err)
	}
	ops := snap.Operators
	names := map[string]string{}
	if cfg != nil {
		for _, co := range cfg.Operators {
			names[co.ID] = co.Name
			if slices.ContainsFunc(ops, func(op queue.Operator) bool { return op.ID == co.ID }) {
				continue
			}
			op, err := q.Operator(ctx, co.ID)
			switch {
			case errors.Is(err, queue.ErrUnknownOperator):
				op = queue.Operator{ID: co.ID, State: queue.LoggedOut, Skills: co.Languages}
			case err != nil:
				return fmt.Errorf("%s%w", prefix(c), err)
			}
			if op.State == "" {
				op.State = queue.LoggedOut
			}
			ops = append(ops, op)
		}
	}
	slices.SortFunc(ops, func(a, b queue.Operator) int { return strings.Compare(a.ID, b.ID) })
	if len(ops) == 0 {
		_, err := fmt.Fprintf(d.Stdout, "no operator is logged in to service %s\n", service)
		return err
	}
	tw := tabwriter.NewWriter(d.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "OPERATOR\tNAME\tSTATE\tFOR\tSKILLS\tDETAIL")
	for _, op := range ops {
		name := names[op.ID]
		if name == "" {
			name = op.ID
		}
		since := "-"
		if !op.Since.IsZero() {
			since = inState(now.Sub(op.Since))
		}
		skills := slices.Clone(op.Skills)
		slices.Sort(skills)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", op.ID, oneLine(name), op.State, since, strings.Join(skills, ","), opDetail(op, loc))
	}
	return tw.Flush()
}

// inState renders a time in state: 45s, 12m05s, 3h02m, 2d04h.
func inState(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	d = d.Truncate(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd%02dh", int(d.Hours())/24, int(d.Hours())%24)
}

func opDetail(op queue.Operator, loc *time.Location) string {
	switch op.State {
	case queue.Paused:
		return "reason " + oneLine(op.PauseReason)
	case queue.WrapUp:
		return "until " + op.WrapUntil.In(loc).Format("15:04:05")
	case queue.Ringing, queue.Busy:
		if op.CallID != "" {
			return "call " + op.CallID
		}
	}
	return ""
}
