package ari_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/helpline-it/helpline/ari"
	"github.com/helpline-it/helpline/ari/aritest"
)

// TestAgainstEmulator drives one inbound call through the in-process
// Asterisk emulator: StasisStart on the all-stream, a per-call
// subscription from it, answer, play, a digit, the caller's hang-up.
func TestAgainstEmulator(t *testing.T) {
	srv := aritest.NewServer(aritest.Config{Username: testUser, Password: testPassword})
	t.Cleanup(srv.Close)
	cfg := ari.Config{URL: srv.URL + "/ari", Username: testUser, Password: testPassword, Application: "helpline"}
	client, err := ari.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	events, err := ari.OpenEvents(cfg, ari.EventsOptions{Backoff: ari.ConstantBackoff(0)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = events.Close() })
	all := mustSub(t)(events.SubscribeAll())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := events.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	if err := srv.AwaitApp(ctx, "helpline"); err != nil {
		t.Fatal(err)
	}

	call, err := srv.Call(ctx, "+393331234567", "800123456", aritest.CallOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var ss *ari.StasisStart
	for ss == nil {
		ev, err := all.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		ss, _ = ev.(*ari.StasisStart)
	}
	sub := mustSub(t)(events.SubscribeSince(ss, ss.Channel.ID))
	id := ss.Channel.ID
	if err := client.Channels().Answer(ctx, id); err != nil {
		t.Fatal(err)
	}
	pb, err := client.Channels().Play(ctx, id, ari.PlayParams{Media: []string{"sound:hello-world"}, PlaybackID: "pb-1"})
	if err != nil || pb.ID != "pb-1" {
		t.Fatalf("play: %+v %v", pb, err)
	}
	if err := call.SendDTMF("5"); err != nil {
		t.Fatal(err)
	}
	var seen []string
	for hungUp := false; ; {
		ev, err := sub.Next(ctx)
		if err != nil {
			t.Fatalf("after %v: %v", seen, err)
		}
		seen = append(seen, ev.EventType())
		if dtmf, ok := ev.(*ari.ChannelDtmfReceived); ok {
			if dtmf.Digit != "5" || dtmf.DurationMS <= 0 {
				t.Errorf("dtmf %+v", dtmf)
			}
			if !hungUp {
				hungUp = true
				if err := call.Hangup(); err != nil {
					t.Fatal(err)
				}
			}
		}
		if ev.EventType() == ari.TypeStasisEnd {
			break
		}
	}
	for _, want := range []string{ari.TypeChannelStateChange, ari.TypePlaybackStarted, ari.TypeChannelDtmfReceived, ari.TypeChannelHangupRequest} {
		found := false
		for _, s := range seen {
			found = found || s == want
		}
		if !found {
			t.Errorf("per-call events %v lack %s", seen, want)
		}
	}
	if _, err := client.Channels().Get(ctx, id); !errors.Is(err, ari.ErrNotFound) {
		t.Errorf("GET after hang-up = %v, want ErrNotFound", err)
	}
	if st := events.Stats(); st.Malformed != 0 || st.Unknown != 0 {
		t.Errorf("emulator sent undecodable or unknown events: %+v", st)
	}
}
