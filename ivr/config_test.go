package ivr_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/helpline-it/helpline/ivr"
)

func TestDefaultConfigIsValid(t *testing.T) {
	if err := ivr.DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestConfigValidateNamesTheField(t *testing.T) {
	tests := []struct {
		field string
		edit  func(c *ivr.Config)
	}{
		{"Node", func(c *ivr.Config) { c.Node = "" }},
		{"Languages", func(c *ivr.Config) { c.Languages = nil }},
		{"Languages[1].Code", func(c *ivr.Config) { c.Languages[1].Code = "it" }},
		{"Languages[1].Digit", func(c *ivr.Config) { c.Languages[1].Digit = '1' }},
		{"Languages[2].Digit", func(c *ivr.Config) { c.Languages[2].Digit = '#' }},
		{"Languages[0].Code", func(c *ivr.Config) { c.Languages[0].Code = "" }},
		{"DefaultLanguage", func(c *ivr.Config) { c.DefaultLanguage = "xx" }},
		{"MenuTries", func(c *ivr.Config) { c.MenuTries = 0 }},
		{"BlockMode", func(c *ivr.Config) { c.BlockMode = "silence" }},
		{"VoicemailDigit", func(c *ivr.Config) { c.VoicemailDigit = 'x' }},
		{"MenuTimeout", func(c *ivr.Config) { c.MenuTimeout = 0 }},
		{"MaxWait", func(c *ivr.Config) { c.MaxWait = -time.Second }},
		{"AnnounceEvery", func(c *ivr.Config) { c.AnnounceEvery = -time.Second }},
		{"VoicemailMax", func(c *ivr.Config) { c.VoicemailMax = 0 }},
		{"OfferTTL", func(c *ivr.Config) { c.OfferTTL = c.RingTimeout }},
		{"EnqueueAttempts", func(c *ivr.Config) { c.EnqueueAttempts = 0 }},
	}
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) {
			c := ivr.DefaultConfig()
			tt.edit(&c)
			err := c.Validate()
			if !errors.Is(err, ivr.ErrConfig) || !strings.Contains(err.Error(), tt.field+":") {
				t.Fatalf("Validate = %v; want ErrConfig naming %s", err, tt.field)
			}
		})
	}
	// Voicemail disabled: its other settings do not matter.
	c := ivr.DefaultConfig()
	c.VoicemailDigit, c.VoicemailMax, c.VoicemailFormat = 0, 0, ""
	if err := c.Validate(); err != nil {
		t.Errorf("voicemail disabled: %v", err)
	}
}

func TestNewRefusesMissingDeps(t *testing.T) {
	if _, err := ivr.New(ivr.DefaultConfig(), ivr.Deps{}); err == nil || !strings.Contains(err.Error(), "Deps.Queue") {
		t.Errorf("New without a queue: %v", err)
	}
	bad := ivr.DefaultConfig()
	bad.MenuTries = 0
	if _, err := ivr.New(bad, ivr.Deps{}); !errors.Is(err, ivr.ErrConfig) {
		t.Errorf("New with a bad config: %v", err)
	}
}

func TestVoicemailName(t *testing.T) {
	for id, want := range map[string]string{
		"1732372177.12":   "vm-1732372177.12",
		"node1/abc def":   "vm-node1_abc_def",
		"a1b2-c3_d4":      "vm-a1b2-c3_d4",
		"chiamata-perché": "vm-chiamata-perch_",
	} {
		if got := ivr.VoicemailName(id); got != want {
			t.Errorf("VoicemailName(%q) = %q; want %q", id, got, want)
		}
	}
}

func TestFailureOf(t *testing.T) {
	for cause, want := range map[int]ivr.Failure{
		0: ivr.FailFailed, 1: ivr.FailFailed, 16: ivr.FailFailed, 17: ivr.FailBusy, 18: ivr.FailNoAnswer,
		19: ivr.FailNoAnswer, 21: ivr.FailRejected, 34: ivr.FailCongestion, 38: ivr.FailCongestion,
	} {
		if got := ivr.FailureOf(cause); got != want {
			t.Errorf("FailureOf(%d) = %s; want %s", cause, got, want)
		}
	}
}

func TestDigitValid(t *testing.T) {
	valid := "0123456789*#ABCD"
	for r := rune(0); r < 256; r++ {
		if got := ivr.Digit(r).Valid(); got != strings.ContainsRune(valid, r) {
			t.Errorf("Digit(%q).Valid() = %v", r, got)
		}
	}
}

func ExampleVoicemailName() {
	fmt.Println(ivr.VoicemailName("1732372177.12"))
	fmt.Println(ivr.VoicemailName("node1/7"))
	// Output:
	// vm-1732372177.12
	// vm-node1_7
}

func ExampleOriginateError() {
	err := error(&ivr.OriginateError{Endpoint: "PJSIP/op1001", Cause: ivr.CauseBusy})
	var oe *ivr.OriginateError
	if errors.As(err, &oe) {
		fmt.Println(oe.Failure())
	}
	fmt.Println(err)
	// Output:
	// busy
	// ivr: originate PJSIP/op1001: busy (cause 17)
}
