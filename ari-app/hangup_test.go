package ariapp_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/helpline-it/helpline/ari/aritest"
	"github.com/helpline-it/helpline/cdr"
)

// deletesOf counts the DELETE /channels/{id} requests for the channel.
func (s *stack) deletesOf(id string) int {
	s.t.Helper()
	return len(find(s.requests(id), http.MethodDelete, "/channels/{channelId}"))
}

// TestHangupRefused: Asterisk refuses the caller's hang-up (500) after
// the operator left. The app retries with a backoff on its clock until
// the channel is gone: the caller is never left on a dead line, and the
// call is over only then.
func TestHangupRefused(t *testing.T) {
	tests := []struct {
		name    string
		refused int
	}{
		{"once", 1},
		{"three times", 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newStack(t, withRedis(), withEndpoints(phones(map[string]aritest.Phone{
				"op1001": {Answer: aritest.Answer, TalkFor: 10 * time.Second},
			})...))
			s.login("op1001", "it")
			c := s.dial(callerNumber, pressOne...)
			s.until("caller bridged", time.Minute, func() bool { return heard(c, "bridge", "") })
			s.srv.InjectFault(aritest.Fault{Method: http.MethodDelete, Route: "/channels/" + c.ChannelID(), Times: tc.refused})
			s.until("caller hung up by the switchboard", time.Minute, func() bool {
				_, ended := c.Ended()
				return ended
			})
			if h, _ := c.Ended(); h.By != aritest.ByApp {
				t.Errorf("caller's line ended by %q, want the app", h.By)
			}
			if n := s.deletesOf(c.ChannelID()); n != tc.refused+1 {
				t.Errorf("%d DELETEs of the caller, want %d", n, tc.refused+1)
			}
			rec := s.cdrOf(c, callerNumber)
			if rec.Outcome != cdr.Answered || rec.HangupBy != cdr.HangupOperator {
				t.Errorf("CDR %+v", rec)
			}
			if n := s.counter("helpline_ariapp_requests_failed_total", "op", "hangup_retry"); n != float64(tc.refused) {
				t.Errorf("hang-up retries %v, want %d", n, tc.refused)
			}
			if n := s.counter("helpline_ariapp_hangups_refused_total"); n != 0 {
				t.Errorf("hang-ups given up %v, want 0", n)
			}
			s.noLeaks()
		})
	}
}

// TestHangupRefusedForever: Asterisk refuses every hang-up. The app gives
// up after its bounded retries, says so at error level with the channel
// id and counts it — it never pretends the caller is gone.
func TestHangupRefusedForever(t *testing.T) {
	s := newStack(t, withRedis(), withEndpoints(phones(map[string]aritest.Phone{
		"op1001": {Answer: aritest.Answer, TalkFor: 10 * time.Second},
	})...))
	s.login("op1001", "it")
	c := s.dial(callerNumber, pressOne...)
	s.until("caller bridged", time.Minute, func() bool { return heard(c, "bridge", "") })
	s.srv.InjectFault(aritest.Fault{Method: http.MethodDelete, Route: "/channels/" + c.ChannelID(), Times: 1000})
	s.until("hang-up given up", time.Minute, func() bool {
		return s.counter("helpline_ariapp_hangups_refused_total") == 1
	})
	if _, ended := c.Ended(); ended {
		t.Fatal("caller's line ended although every hang-up was refused")
	}
	if n := s.deletesOf(c.ChannelID()); n != 6 {
		t.Errorf("%d DELETEs of the caller, want 6 (bounded retries)", n)
	}
	var found bool
	for _, line := range strings.Split(s.logs.String(), "\n") {
		if strings.Contains(line, `"level":"error"`) && strings.Contains(line, c.ChannelID()) &&
			strings.Contains(line, "refused every hang-up") {
			found = true
		}
	}
	if !found {
		t.Errorf("no error log line naming channel %s", c.ChannelID())
	}
	if err := c.Hangup(); err != nil {
		t.Fatal(err)
	}
	s.cdrOf(c, callerNumber)
	s.noLeaks()
}

// TestAnswerRefused: Asterisk refuses answers. Two refusals in a row
// are retried and the caller goes on to the welcome; when every try is
// refused (and the first hang-ups too) the call is recorded unanswered
// and the channel does not stay ringing in Stasis: the give-up hang-up is
// retried until it is gone.
func TestAnswerRefused(t *testing.T) {
	t.Run("twice", func(t *testing.T) {
		s := newStack(t)
		s.srv.InjectFault(aritest.Fault{Method: http.MethodPost, Route: "/channels/{channelId}/answer", Times: 2})
		c := s.dial(callerNumber)
		s.until("welcome playing", time.Minute, func() bool { return heard(c, "playback", string(pWelcome)) })
		if !c.Answered() {
			t.Error("caller not answered")
		}
		if n := answers(s.srv.Requests(), c.ChannelID()); n != 3 {
			t.Errorf("%d answers, want 3", n)
		}
		if err := c.Hangup(); err != nil {
			t.Fatal(err)
		}
		if rec := s.cdrOf(c, callerNumber); rec.Outcome != cdr.WelcomeHangup {
			t.Errorf("CDR %+v", rec)
		}
		s.noLeaks()
	})
	t.Run("always", func(t *testing.T) {
		s := newStack(t)
		s.srv.InjectFault(aritest.Fault{Method: http.MethodPost, Route: "/channels/{channelId}/answer", Times: 4})
		s.srv.InjectFault(aritest.Fault{Method: http.MethodDelete, Route: "/channels/{channelId}", Times: 2})
		c := s.dial(callerNumber)
		rec := s.cdrOf(c, callerNumber)
		if rec.Outcome != cdr.Unanswered || rec.HangupBy != cdr.HangupSystem || !strings.Contains(rec.Note, "engine_error: answer") {
			t.Errorf("CDR %+v", rec)
		}
		h, ended := c.Ended()
		if !ended || h.By != aritest.ByApp {
			t.Errorf("caller's line: ended %v by %q, want ended by the app", ended, h.By)
		}
		if n := len(s.srv.Channels()); n != 0 {
			t.Errorf("%d channels left in Stasis, want 0", n)
		}
		if n := answers(s.srv.Requests(), c.ChannelID()); n != 4 {
			t.Errorf("%d answers, want 4", n)
		}
		if n := s.deletesOf(c.ChannelID()); n != 3 {
			t.Errorf("%d DELETEs of the caller, want 3", n)
		}
		s.noLeaks()
	})
}
