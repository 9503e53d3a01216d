package ivr_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/helpline-it/helpline/cdr"
	"github.com/helpline-it/helpline/ivr"
	"github.com/helpline-it/helpline/ivr/ivrtest"
	"github.com/helpline-it/helpline/queue"
)

// pressIT is a caller who picks Italian during the welcome.
var pressIT = ivrtest.OnPlay(pWelcome, ivrtest.Press("1"))

// queuedRequests is what a caller who pressed 1 in the welcome gets until
// they wait with music.
var queuedRequests = []string{"ring", "answer", "play it " + string(pWelcome), "moh_start"}

func TestAnswered(t *testing.T) {
	tests := []struct {
		name     string
		phone    ivrtest.Phone
		talk     time.Duration
		by       string
		wrap     time.Duration
		tail     []string
		operator bool // the operator hangs up
	}{
		{
			name: "caller hangs up", phone: ivrtest.Answers(3 * time.Second), talk: 5 * time.Minute,
			by: cdr.HangupCaller, wrap: 30 * time.Second,
			tail: []string{"hangup leg-2 16", "bridge_destroy"},
		},
		{
			name: "operator hangs up", phone: ivrtest.AnswersAndTalks(3*time.Second, 5*time.Minute), talk: 5 * time.Minute,
			by: cdr.HangupOperator, wrap: 30 * time.Second, operator: true,
			tail: []string{"operator hangs up leg-2", "hangup 16", "bridge_destroy"},
		},
		{
			name: "long call, long wrap-up", phone: ivrtest.Answers(3 * time.Second), talk: 25 * time.Minute,
			by: cdr.HangupCaller, wrap: 2 * time.Minute,
			tail: []string{"hangup leg-2 16", "bridge_destroy"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, time.Time{})
			h.login("op1", tt.phone, "it")
			c := h.dial(testNumber, pressIT)
			h.awaitReq(c, "originate", 1)
			h.advance(4, 3*time.Second) // tick, max wait, ring guard, the phone
			h.awaitReq(c, "bridge", 1)
			if c.MOH() {
				t.Error("music on hold still playing in the bridge")
			}
			if tt.operator {
				h.advance(2, tt.talk) // tick, the operator's talk
			} else {
				h.clock.Advance(tt.talk)
				c.HangUp(16)
			}
			rec := h.record(c)
			connected := monday15.Add(3 * time.Second)
			ended := connected.Add(tt.talk)
			if rec.Outcome != cdr.Answered || rec.Operator != "op1" || rec.HangupBy != tt.by || rec.HangupCause != 16 {
				t.Errorf("record %+v; want answered by op1, hung up by %s", rec, tt.by)
			}
			if !rec.QueuedAt.Equal(monday15) || !rec.ConnectedAt.Equal(connected) || !rec.EndedAt.Equal(ended) || rec.Language != "it" {
				t.Errorf("times queued %v connected %v ended %v; want %v %v %v", rec.QueuedAt, rec.ConnectedAt, rec.EndedAt, monday15, connected, ended)
			}
			if rec.WaitSeconds() != 3 {
				t.Errorf("wait %v s; want 3", rec.WaitSeconds())
			}
			wantRequests(t, c, slices.Concat(queuedRequests,
				[]string{"originate PJSIP/op1 20s", "leg leg-2 answered", "moh_stop", "bridge leg-2"}, tt.tail))
			op := h.operator("op1")
			if op.State != queue.WrapUp || !op.WrapUntil.Equal(ended.Add(tt.wrap)) {
				t.Errorf("operator %s until %v; want wrap-up until %v", op.State, op.WrapUntil, ended.Add(tt.wrap))
			}
			h.clock.Advance(tt.wrap)
			if op := h.operator("op1"); op.State != queue.Available {
				t.Errorf("after the wrap-up operator is %s", op.State)
			}
			h.noLeaks()
		})
	}
}

func TestAbandonedWhileWaiting(t *testing.T) {
	h := newHarness(t, time.Time{})
	waitingOperator(h)
	c := h.dial(testNumber, pressIT)
	h.awaitQueued(c)
	h.advance(2, 2*time.Minute) // tick, max wait
	c.HangUp(16)
	rec := h.record(c)
	if rec.Outcome != cdr.Abandoned || rec.HangupBy != cdr.HangupCaller || rec.HangupCause != 16 ||
		!rec.QueuedAt.Equal(monday15) || !rec.EndedAt.Equal(monday15.Add(2*time.Minute)) || rec.Operator != "" {
		t.Errorf("record %+v", rec)
	}
	wantRequests(t, c, queuedRequests)
	h.noLeaks()
}

func TestAbandonedWhileTheOperatorRings(t *testing.T) {
	h := newHarness(t, time.Time{})
	h.login("op1", ivrtest.NeverAnswers(), "it")
	c := h.dial(testNumber, pressIT)
	h.awaitReq(c, "originate", 1)
	h.advance(4, 10*time.Second) // tick, max wait, ring guard, the phone
	c.HangUp(16)
	rec := h.record(c)
	if rec.Outcome != cdr.Abandoned || rec.Operator != "" || rec.HangupBy != cdr.HangupCaller {
		t.Errorf("record %+v; want abandoned, no operator", rec)
	}
	wantRequests(t, c, slices.Concat(queuedRequests, []string{"originate PJSIP/op1 20s", "cancel leg-2"}))
	if op := h.operator("op1"); op.State != queue.Available {
		t.Errorf("operator %s (%s); want available: a caller hanging up is no fault of theirs", op.State, op.PauseReason)
	}
	if n := h.counter("helpline_ivr_ring_failures_total", "failure", "no_answer"); n != 0 {
		t.Errorf("ring failure counted: %v", n)
	}
	h.noLeaks()
}

func TestVoicemail(t *testing.T) {
	intro := "play it " + string(pVMIntro)
	record := "record vm-call-1 wav max=2m0s beep=true term=#"
	tests := []struct {
		name  string
		end   func(h *harness, c *ivrtest.Call)
		dur   time.Duration
		by    string
		tail  []string
		steps []ivrtest.Step
	}{
		{
			name: "ended with #",
			end: func(h *harness, c *ivrtest.Call) {
				h.advance(2, 20*time.Second) // tick, the recording's limit
				c.Press("#")
			},
			dur: 20 * time.Second, by: cdr.HangupSystem,
			tail: []string{"play it " + string(pVMThanks), "hangup 16"},
		},
		{
			name: "ended by hanging up",
			end: func(h *harness, c *ivrtest.Call) {
				h.advance(2, 45*time.Second)
				c.HangUp(16)
			},
			dur: 45 * time.Second, by: cdr.HangupCaller,
		},
		{
			name: "ended by the length limit",
			end: func(h *harness, c *ivrtest.Call) {
				h.advance(2, 2*time.Minute)
			},
			dur: 2 * time.Minute, by: cdr.HangupSystem,
			tail: []string{"play it " + string(pVMThanks), "hangup 16"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, time.Time{})
			waitingOperator(h)
			c := h.dial(testNumber, pressIT)
			h.awaitQueued(c)
			c.Press("9")
			h.awaitReq(c, "record", 1)
			tt.end(h, c)
			rec := h.record(c)
			if rec.Outcome != cdr.Voicemail || rec.Voicemail != "vm-call-1" || rec.HangupBy != tt.by {
				t.Errorf("record %+v; want voicemail vm-call-1 by %s", rec, tt.by)
			}
			stored, ok := h.net.Recording("vm-call-1")
			if !ok || stored.Duration != tt.dur {
				t.Errorf("stored recording %+v (%v); want %v kept", stored, ok, tt.dur)
			}
			wantRequests(t, c, slices.Concat(queuedRequests, []string{"moh_stop", intro, record}, tt.tail))
			h.noLeaks()
		})
	}
}

// failingQueue makes Enqueue fail.
type failingQueue struct {
	queue.Queue
	enqueue error
}

func (f failingQueue) Enqueue(ctx context.Context, c queue.Call) error { return f.enqueue }

func TestUnanswered(t *testing.T) {
	unans := []string{"moh_stop", "play it " + string(pUnans), "hangup 16"}
	tests := []struct {
		name  string
		opts  []option
		setup func(h *harness, c *ivrtest.Call)
		note  string
		after time.Duration
		want  []string
	}{
		{
			name: "max wait",
			setup: func(h *harness, c *ivrtest.Call) {
				h.awaitQueued(c)
				h.advance(2, h.cfg.MaxWait) // tick, max wait
			},
			note: "max_wait", after: 10 * time.Minute,
			want: slices.Concat(queuedRequests, unans),
		},
		{
			name: "nobody logged in with the skill, at once",
			note: "no_operator",
			want: slices.Concat(queuedRequests, unans),
		},
		{
			name: "nobody logged in with the skill, after the grace",
			opts: []option{withConfig(func(c *ivr.Config) { c.NoOperatorGrace = 30 * time.Second })},
			setup: func(h *harness, c *ivrtest.Call) {
				h.awaitQueued(c)
				h.advance(3, 30*time.Second) // tick, max wait, the check
			},
			note: "no_operator", after: 30 * time.Second,
			want: slices.Concat(queuedRequests, unans),
		},
		{
			name: "the engine cannot answer",
			setup: func(h *harness, c *ivrtest.Call) {
				c.Fail("answer", nil, nil, nil, nil)
			},
			note: "engine_error: answer: answer call-1: ivrtest: engine failure (500)",
			// Four tries, 100, 200 and 400 ms apart, then the hang-up.
			after: 700 * time.Millisecond,
			want:  []string{"ring", "answer", "answer", "answer", "answer", "hangup 16"},
		},
		{
			name: "the queue refuses the call",
			opts: []option{
				withConfig(func(c *ivr.Config) { c.EnqueueAttempts = 1 }),
				withQueue(func(q queue.Queue) queue.Queue {
					return failingQueue{Queue: q, enqueue: errors.New("queue: store unavailable")}
				}),
			},
			note: "queue_unavailable: queue: store unavailable",
			want: slices.Concat(queuedRequests, unans),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, time.Time{}, tt.opts...)
			if tt.note == "max_wait" {
				waitingOperator(h)
			}
			if tt.note == "no_operator" {
				// Someone with another skill does not count.
				h.login("op9", ivrtest.Answers(0), "en")
			}
			var c *ivrtest.Call
			if tt.name == "the engine cannot answer" {
				c = h.net.Dial(testNumber, pressIT)
				tt.setup(h, c)
				h.handle(c)
				for i, d := range []time.Duration{100, 200, 400} {
					h.awaitReq(c, "answer", i+1)
					h.advance(2, d*time.Millisecond) // the dispatcher's ticker and the backoff
				}
			} else {
				c = h.dial(testNumber, pressIT)
				if tt.setup != nil {
					tt.setup(h, c)
				}
			}
			rec := h.record(c)
			if rec.Outcome != cdr.Unanswered || rec.Note != tt.note || rec.HangupBy != cdr.HangupSystem || rec.HangupCause != 16 {
				t.Errorf("record %+v; want unanswered (%s) by system", rec, tt.note)
			}
			if !rec.EndedAt.Equal(monday15.Add(tt.after)) || rec.Language != "it" || rec.QueuedAt.IsZero() {
				t.Errorf("ended %v language %q queued %v; want ended %v", rec.EndedAt, rec.Language, rec.QueuedAt, monday15.Add(tt.after))
			}
			wantRequests(t, c, tt.want)
			if n := h.counter("helpline_ivr_calls_total", "outcome", "unanswered"); n != 1 {
				t.Errorf("calls_total{unanswered} = %v", n)
			}
			h.noLeaks()
		})
	}
}

// A call lost with its engine (Asterisk restarted while the event stream
// was down) keeps the adapter's note in its CDR, so the report can say
// how many calls ended that way.
func TestVanishedCallKeepsTheEngineNote(t *testing.T) {
	h := newHarness(t, time.Time{})
	waitingOperator(h)
	c := h.dial(testNumber, pressIT)
	h.awaitQueued(c)
	c.Vanish(0, "asterisk_restart: channel gone after reconnect")
	rec := h.record(c)
	if rec.Outcome != cdr.Abandoned || !strings.Contains(rec.Note, "asterisk_restart") {
		t.Errorf("record outcome %s note %q; want abandoned with the engine's note", rec.Outcome, rec.Note)
	}
	h.noLeaks()
}
