package operator_test

import (
	"slices"
	"testing"
	"time"

	"github.com/helpline-it/helpline/blacklist"
	"github.com/helpline-it/helpline/cdr"
	"github.com/helpline-it/helpline/ivr/ivrtest"
	"github.com/helpline-it/helpline/queue"
)

const harasser = "+39 347 765 4321"

// talkAndHangUp: a caller from number talks with op, then hangs up.
func (h *harness) talkAndHangUp(op, number string) cdr.Record {
	h.t.Helper()
	c, _ := h.talking(op, number)
	h.clock.Advance(10 * time.Second)
	c.HangUp(16)
	return h.record(c)
}

// ready waits for op's wrap-up to end, advancing the clock.
func (h *harness) ready(op string) {
	h.t.Helper()
	h.advanceUntil(op+" available again", 10*time.Second, 10*time.Minute, func() bool {
		return h.operator(op).State == queue.Available
	})
}

func TestFlagLastCaller(t *testing.T) {
	h := newHarness(t)
	h.login("op1", ivrtest.Answers(0))
	rec := h.talkAndHangUp("op1", harasser)
	if rec.Outcome != cdr.Answered {
		t.Fatalf("record %+v", rec)
	}
	c := h.code("PJSIP/op1", "*14")
	if !slices.Contains(c.Requests(), prompt("flagged")) {
		t.Errorf("requests %q; want the flagged prompt", c.Requests())
	}
	flags, err := h.bl.Flags(h.ctx, h.hasher.Identify(harasser).Hash)
	if err != nil {
		t.Fatal(err)
	}
	if len(flags) != 1 || flags[0].Operator != "op1" || flags[0].Kind != blacklist.Harassment || !flags[0].At.Equal(h.clock.Now()) {
		t.Errorf("flags %+v; want one harassment flag by op1 now", flags)
	}
	// The same call cannot be flagged twice by the same operator, in any
	// kind: a repeated code must not push a caller towards a block.
	for _, code := range []string{"*14", "*15"} {
		c := h.code("PJSIP/op1", code)
		if !slices.Contains(c.Requests(), prompt("refused")) {
			t.Errorf("%s again: requests %q; want refused", code, c.Requests())
		}
	}
	if flags, _ := h.bl.Flags(h.ctx, h.hasher.Identify(harasser).Hash); len(flags) != 1 {
		t.Errorf("flags %+v after repeats; want still one", flags)
	}
	// op2 never talked with anyone: nothing to flag.
	h.login("op2", ivrtest.Answers(0))
	if c := h.code("PJSIP/op2", "*15"); !slices.Contains(c.Requests(), prompt("refused")) {
		t.Errorf("op2 *15: requests %q; want refused", c.Requests())
	}
	h.noNumbers(harasser)
}

func TestFlagWithheldCaller(t *testing.T) {
	h := newHarness(t)
	h.login("op1", ivrtest.Answers(0))
	h.talkAndHangUp("op1", "anonymous")
	c := h.code("PJSIP/op1", "*14")
	if !slices.Contains(c.Requests(), prompt("withheld")) {
		t.Errorf("requests %q; want the withheld prompt", c.Requests())
	}
	list, err := h.bl.List(h.ctx, h.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 0 {
		t.Errorf("blocks %+v; want none", list)
	}
	if n := h.counter("helpline_operator_flags_total"); n != 0 {
		t.Errorf("flags counted %v; want 0", n)
	}
}

// TestFlagsBlockThenExpire: the policy's threshold of flags blocks the
// next call from that number; on the injected clock the block ends and
// the number gets through again.
func TestFlagsBlockThenExpire(t *testing.T) {
	h := newHarness(t)
	h.login("op1", ivrtest.Answers(0))
	for i := range operatorPolicyThresh {
		if i > 0 {
			h.ready("op1")
		}
		h.talkAndHangUp("op1", harasser)
		if c := h.code("PJSIP/op1", "*15"); !slices.Contains(c.Requests(), prompt("flagged")) {
			t.Fatalf("flag %d: requests %q", i+1, c.Requests())
		}
	}
	if n := h.counter("helpline_operator_flag_blocks_total"); n != 1 {
		t.Errorf("blocks counted %v; want 1", n)
	}
	h.ready("op1")
	blocked := h.call(harasser)
	rec := h.record(blocked)
	if rec.Outcome != cdr.Blacklisted || blocked.Answered() {
		t.Errorf("call after %d flags: %+v (answered %v); want blacklisted without an answer", operatorPolicyThresh, rec, blocked.Answered())
	}
	// Another caller is not affected.
	c, _ := h.talking("op1", "+39 02 1234 5678")
	c.HangUp(16)
	h.record(c)

	h.clock.Advance(30*24*time.Hour + time.Minute)
	h.ready("op1")
	c, _ = h.talking("op1", harasser)
	c.HangUp(16)
	if rec := h.record(c); rec.Outcome != cdr.Answered {
		t.Errorf("call after the block expired: %+v; want answered", rec)
	}
	h.noNumbers(harasser)
}

// TestFlagDuringTalk: *14 keyed on the leg flags the current caller and
// gives the operator the longer wrap-up; the same call cannot be flagged
// again from the phone afterwards.
func TestFlagDuringTalk(t *testing.T) {
	h := newHarness(t)
	h.login("op1", ivrtest.Answers(0))
	c, leg := h.talking("op1", harasser)
	leg.Press("*14#")
	hash := h.hasher.Identify(harasser).Hash
	h.advanceUntil("flag recorded", time.Millisecond, time.Second, func() bool {
		fs, _ := h.bl.Flags(h.ctx, hash)
		return len(fs) == 1
	})
	c.HangUp(16)
	rec := h.record(c)
	op := h.awaitOperator("op1", queue.WrapUp)
	if want := rec.EndedAt.Add(h.icfg.FlaggedWrapUp); !op.WrapUntil.Equal(want) {
		t.Errorf("op1 wrap-up until %v; want %v (flagged)", op.WrapUntil, want)
	}
	if c := h.code("PJSIP/op1", "*14"); !slices.Contains(c.Requests(), prompt("refused")) {
		t.Errorf("*14 after the in-talk flag: %q; want refused", c.Requests())
	}
	// The caller heard nothing of it.
	for _, r := range c.Requests() {
		if r == prompt("flagged") {
			t.Error("the flag was confirmed into the caller's call")
		}
	}
}
