package liveview

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/helpline-it/helpline/config"
)

// ConfigOptions fills the options a configuration decides: the service,
// its time zone, the languages in menu order with their names, the
// operators' names and the longest-wait alert.
func ConfigOptions(cfg *config.Config) Options {
	o := Options{
		Service:       cfg.Service,
		Location:      cfg.Location,
		Alert:         cfg.Queue.LongestWaitAlert,
		OperatorNames: map[string]string{},
	}
	for _, l := range cfg.Languages {
		o.Languages = append(o.Languages, Language{Code: l.Code, Name: l.Name})
	}
	for _, op := range cfg.Operators {
		if op.Name != "" {
			o.OperatorNames[op.ID] = op.Name
		}
	}
	return o
}

// QueuePrefix turns the configuration's redis.key_prefix ("helpline:")
// into the queue store's prefix ("helpline"): the store adds the
// separator itself.
func QueuePrefix(keyPrefix string) string {
	return strings.TrimRight(keyPrefix, ":")
}

// DiscoverServices lists the services that have a queue under prefix in
// the Redis behind c, so that `helpline queue --redis ADDR` needs no
// --service when there is only one (the demo). It relies on the key
// layout documented in package queue (scripts.go):
// "<prefix>:{<service>}:ops" and ":calls", and reads key names only.
func DiscoverServices(ctx context.Context, c redis.UniversalClient, prefix string) ([]string, error) {
	prefix = QueuePrefix(prefix)
	var found []string
	for _, suffix := range []string{":ops", ":calls", ":langs"} {
		iter := c.Scan(ctx, 0, escapeGlob(prefix)+":{*}"+suffix, 100).Iterator()
		for iter.Next(ctx) {
			k := strings.TrimSuffix(strings.TrimPrefix(iter.Val(), prefix+":{"), "}"+suffix)
			if k != "" && !strings.ContainsAny(k, "{}") && !slices.Contains(found, k) {
				found = append(found, k)
			}
		}
		if err := iter.Err(); err != nil {
			return nil, fmt.Errorf("liveview: looking for queues under %q: %w", prefix, err)
		}
	}
	slices.Sort(found)
	return found, nil
}

// escapeGlob escapes the characters SCAN MATCH treats specially.
func escapeGlob(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`, `]`, `\]`)
	return r.Replace(s)
}
