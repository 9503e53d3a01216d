package operator_test

import (
	"slices"
	"testing"
	"time"

	"github.com/helpline-it/helpline/ivr/ivrtest"
	"github.com/helpline-it/helpline/queue"
)

// TestFeatureCodes: each code from the operator's phone, dialled as the
// extension, changes the operator's state and is confirmed by its
// prompt; the call is hung up after.
func TestFeatureCodes(t *testing.T) {
	type step struct {
		dialled string
		prompt  string
		state   queue.State
		reason  string
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"login", []step{{"*11", "logged-in", queue.Available, ""}}},
		{"login twice keeps the state", []step{{"*11", "logged-in", queue.Available, ""}, {"*131", "paused", queue.Paused, "break"}, {"*11", "logged-in", queue.Paused, "break"}}},
		{"logout", []step{{"*11", "logged-in", queue.Available, ""}, {"*12", "logged-out", queue.LoggedOut, ""}}},
		{"pause and unpause", []step{{"*11", "logged-in", queue.Available, ""}, {"*13", "paused", queue.Paused, "manual"}, {"*13", "unpaused", queue.Available, ""}}},
		{"pause with a reason, change it", []step{{"*11", "logged-in", queue.Available, ""}, {"*132", "paused", queue.Paused, "meeting"}, {"*131", "paused", queue.Paused, "break"}}},
		{"unknown reason digit", []step{{"*11", "logged-in", queue.Available, ""}, {"*139", "refused", queue.Available, ""}}},
		{"pause when logged out", []step{{"*13", "refused", queue.LoggedOut, ""}}},
		{"wrong code", []step{{"*11", "logged-in", queue.Available, ""}, {"*99", "refused", queue.Available, ""}, {"*1", "refused", queue.Available, ""}, {"*111", "refused", queue.Available, ""}}},
		{"transfer dialled outside a talk", []step{{"*11", "logged-in", queue.Available, ""}, {"*211234", "refused", queue.Available, ""}}},
		{"flag with no last caller", []step{{"*11", "logged-in", queue.Available, ""}, {"*14", "refused", queue.Available, ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			for i, s := range tt.steps {
				c := h.code("PJSIP/op1", s.dialled)
				if c.Up() {
					t.Errorf("step %d %s: the operator's call was not hung up", i, s.dialled)
				}
				if want := prompt(s.prompt); !slices.Contains(c.Requests(), want) {
					t.Errorf("step %d %s: requests %q, want %q", i, s.dialled, c.Requests(), want)
				}
				op, err := h.q.Operator(h.ctx, "op1")
				if err != nil && s.state != queue.LoggedOut {
					t.Fatalf("step %d: %v", i, err)
				}
				if op.State != s.state && !(s.state == queue.LoggedOut && op.State == "") {
					t.Errorf("step %d %s: state %s, want %s", i, s.dialled, op.State, s.state)
				}
				if op.State == queue.Paused && op.PauseReason != s.reason {
					t.Errorf("step %d %s: pause reason %q, want %q", i, s.dialled, op.PauseReason, s.reason)
				}
			}
		})
	}
}

// TestLoginSkills: logging in takes the operator's languages and endpoint
// from the configuration, whatever phone rang.
func TestLoginSkills(t *testing.T) {
	h := newHarness(t)
	h.code("pjsip/op1", "*11") // technology compared case-insensitively
	op := h.operator("op1")
	slices.Sort(op.Skills)
	if !slices.Equal(op.Skills, []string{"en", "it"}) || op.Endpoint != "PJSIP/op1" {
		t.Errorf("op1 %+v; want skills it,en on PJSIP/op1", op)
	}
}

// TestUnknownEndpoint: a phone that is nobody's hears Unknown and nothing
// changes in the queue.
func TestUnknownEndpoint(t *testing.T) {
	h := newHarness(t)
	for _, code := range []string{"*11", "*12", "*14", "9000"} {
		c := h.code("PJSIP/intruder", code)
		if got := c.Requests(); !slices.Equal(got, []string{"answer", prompt("unknown"), "hangup 16"}) {
			t.Errorf("%s: requests %q", code, got)
		}
	}
	snap, err := h.q.Snapshot(h.ctx, h.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Operators) != 0 {
		t.Errorf("operators %+v; want none", snap.Operators)
	}
	if n := h.counter("helpline_operator_features_total", "feature", "unknown_endpoint"); n != 4 {
		t.Errorf("unknown_endpoint counted %v, want 4", n)
	}
}

// TestCodeKeyedAfterAnswer: the operator dials the feature line (9000, as
// in the recorded trace) and keys the code after the prompt; '#' ends it
// at once, a pause ends it too, garbage keys are dropped, silence is a
// wrong (empty) code.
func TestCodeKeyedAfterAnswer(t *testing.T) {
	h := newHarness(t)
	c, done := h.dialIn("PJSIP/op1", "9000", ivrtest.OnPlay("sound:helpline/operator-enter-code", ivrtest.Press("*1\x001#")))
	h.wait(done)
	want := []string{"answer", prompt("enter-code"), prompt("logged-in"), "hangup 16"}
	if got := c.Requests(); !slices.Equal(got, want) {
		t.Errorf("requests %q, want %q", got, want)
	}
	if op := h.operator("op1"); op.State != queue.Available {
		t.Errorf("op1 %s; want available", op.State)
	}

	// A pause of CodeTimeout ends the code.
	c, done = h.dialIn("PJSIP/op1", "9000")
	h.await("prompt played", func() bool { return slices.Contains(c.Requests(), prompt("enter-code")) })
	c.Press("*13")
	h.advanceUntil("code ended by the pause", time.Second, 10*time.Second, func() bool {
		return slices.Contains(c.Requests(), prompt("paused"))
	})
	h.wait(done)
	if op := h.operator("op1"); op.State != queue.Paused {
		t.Errorf("op1 %s; want paused", op.State)
	}

	// Silence: after FirstKeyTimeout, refused.
	c, done = h.dialIn("PJSIP/op1", "9000")
	h.await("prompt played", func() bool { return slices.Contains(c.Requests(), prompt("enter-code")) })
	h.advanceUntil("silence refused", time.Second, 20*time.Second, func() bool {
		return slices.Contains(c.Requests(), prompt("refused"))
	})
	h.wait(done)

	// Hanging up while keying: nothing happens.
	c, done = h.dialIn("PJSIP/op1", "9000")
	h.await("prompt played", func() bool { return slices.Contains(c.Requests(), prompt("enter-code")) })
	c.Press("*1")
	c.HangUp(16)
	h.wait(done)
	if op := h.operator("op1"); op.State != queue.Paused {
		t.Errorf("op1 %s after a hang-up mid-code; want still paused", op.State)
	}
}

// TestEnterCodeBargeIn: the first key stops the invitation prompt.
func TestEnterCodeBargeIn(t *testing.T) {
	h := newHarness(t)
	h.net.SetDuration("sound:helpline/operator-enter-code", 5*time.Second)
	c, done := h.dialIn("PJSIP/op1", "9000", ivrtest.OnPlay("sound:helpline/operator-enter-code", ivrtest.Press("*11#")))
	h.wait(done)
	want := []string{"answer", prompt("enter-code"), "stop play", prompt("logged-in"), "hangup 16"}
	if got := c.Requests(); !slices.Equal(got, want) {
		t.Errorf("requests %q, want %q", got, want)
	}
}
