package main

import (
	"context"
	"strings"
	"time"

	"github.com/helpline-it/helpline/ari"
	"github.com/helpline-it/helpline/blacklist"
	"github.com/helpline-it/helpline/config"
	"github.com/helpline-it/helpline/ivr"
)

// This file is the one place where the YAML configuration (package
// config) becomes the call flow's (ivr.Config) and the ARI client's
// (ari.Config). `helpline serve` and `helpline demo` both call it, so the
// switchboard behaves the same in both.

// offerMargin is how much longer than the ring timeout the queue reserves
// an offered call: ivr cancels a ring that outlives RingTimeout +
// margin/2, so a ringing phone never outlives its reservation.
const offerMargin = 10 * time.Second

// flowConfig maps cfg onto the call flow's configuration.
//
// The configuration holds a prompt per language: the default language's
// prompts are what every caller hears before choosing (welcome, invalid
// choice, blocked message; the welcome in the first welcome language),
// each language's menu entry is in that language, and everything after the
// choice comes from that language's own prompts (ivr.LanguagePrompts).
// The flow plays one medium per prompt. Placeholder prompts are split at their
// placeholder: queue_position gives Position (what precedes {position}),
// queue_wait gives ExpectedWait and Minutes (around {minutes}).
// Not mapped, because the flow has no such knob: ivr.welcome_languages
// beyond the first, queue.auto_pause_on_no_answer (the flow always
// pauses) and announce_interval 0 meaning "once on entry" (the flow reads
// 0 as never).
func flowConfig(cfg *config.Config) ivr.Config {
	ic := ivr.DefaultConfig()
	ic.Service, ic.Node = cfg.Service, cfg.NodeID
	def := cfg.IVR.DefaultLanguage
	welcome := def
	if len(cfg.IVR.WelcomeLanguages) > 0 {
		welcome = cfg.IVR.WelcomeLanguages[0]
	}
	ic.Languages = nil
	for _, l := range cfg.Languages {
		var digit ivr.Digit
		if l.Digit != "" {
			digit = ivr.Digit(l.Digit[0])
		}
		ic.Languages = append(ic.Languages, ivr.Language{
			Code: l.Code, Digit: digit,
			Menu: firstMedium(cfg.Prompt(l.Code, config.PromptMenu).Media(map[string]string{"digit": l.Digit})),
		})
	}
	ic.DefaultLanguage = def
	ic.MenuTries, ic.MenuTimeout = cfg.IVR.MenuTries, cfg.IVR.DigitTimeout
	switch cfg.Blacklist.Rejection {
	case config.RejectCongestion:
		ic.BlockMode = ivr.BlockCongestion
	case config.RejectMessage:
		ic.BlockMode = ivr.BlockMessage
	default:
		ic.BlockMode = ivr.BlockBusy
	}
	ic.Prompts = callerPrompts(cfg, def)
	ic.Prompts.Welcome = firstMedium(cfg.Prompt(welcome, config.PromptWelcome).Media(nil))
	ic.Prompts.Blocked = firstMedium(cfg.Blacklist.Message.Media(nil))
	ic.LanguagePrompts = make(map[string]ivr.Prompts, len(cfg.Languages))
	for _, l := range cfg.Languages {
		ic.LanguagePrompts[l.Code] = callerPrompts(cfg, l.Code)
	}
	ic.MOHClass = cfg.IVR.MusicOnHold
	ic.AnnounceEvery, ic.MaxWait = cfg.IVR.AnnounceInterval, cfg.IVR.MaxWait
	ic.VoicemailDigit, ic.VoicemailMax = 0, cfg.IVR.VoicemailMaxLength
	if cfg.IVR.VoicemailDigit != "" {
		ic.VoicemailDigit = ivr.Digit(cfg.IVR.VoicemailDigit[0])
	}
	ic.RingTimeout = cfg.Queue.RingTimeout
	ic.OfferTTL = cfg.Queue.RingTimeout + offerMargin
	ic.WrapUp, ic.LongCall, ic.LongWrapUp = cfg.Queue.WrapUp, cfg.Queue.LongCallThreshold, cfg.Queue.LongCallWrapUp
	ic.FlaggedWrapUp = cfg.Queue.FlaggedWrapUp
	return ic
}

// callerPrompts are the prompts a caller hears in lang once that language
// is chosen (and, for the default language, before): each language's own
// recordings, so that a caller who chose English hears English.
func callerPrompts(cfg *config.Config, lang string) ivr.Prompts {
	prompt := func(id config.PromptID, values map[string]string) ivr.Media {
		return firstMedium(cfg.Prompt(lang, id).Media(values))
	}
	position, positionEnd := splitAt(cfg.Prompt(lang, config.PromptQueuePosition).Sound, "{position}")
	expected, minutes := splitAt(cfg.Prompt(lang, config.PromptQueueWait).Sound, "{minutes}")
	return ivr.Prompts{
		InvalidChoice:   prompt(config.PromptInvalidChoice, nil),
		Position:        position,
		PositionEnd:     positionEnd,
		ExpectedWait:    expected,
		Minutes:         minutes,
		VoicemailOffer:  prompt(config.PromptVoicemailOffer, map[string]string{"digit": cfg.IVR.VoicemailDigit}),
		VoicemailIntro:  prompt(config.PromptVoicemailRecord, nil),
		VoicemailThanks: prompt(config.PromptVoicemailSaved, nil),
		Unanswered:      prompt(config.PromptUnavailable, nil),
	}
}

// firstMedium is the first medium of a prompt ("" for none).
func firstMedium(media []string) ivr.Media {
	if len(media) == 0 {
		return ""
	}
	return ivr.Media(media[0])
}

// splitAt returns the medium before the one holding placeholder and the
// medium after it (either may be ""). A prompt without the placeholder
// gives its first medium as before.
func splitAt(media []string, placeholder string) (before, after ivr.Media) {
	for i, m := range media {
		if !strings.Contains(m, placeholder) {
			continue
		}
		if i > 0 {
			before = ivr.Media(media[i-1])
		}
		if i+1 < len(media) {
			after = ivr.Media(media[i+1])
		}
		return before, after
	}
	return firstMedium(media), ""
}

// ariConfig is the ARI client's configuration: config's ari.url is the
// base of Asterisk's HTTP server, the client wants the /ari root.
func ariConfig(cfg *config.Config, password string) ari.Config {
	return ari.Config{
		URL:         strings.TrimRight(cfg.ARI.URL, "/") + "/ari",
		Username:    cfg.ARI.Username,
		Password:    password,
		Application: cfg.ARI.App,
	}
}

// redisPrefix is the key prefix the stores take ("helpline:" → "helpline").
func redisPrefix(cfg *config.Config) string { return strings.TrimSuffix(cfg.Redis.KeyPrefix, ":") }

// blacklistPolicy is the flags → block policy of the configuration.
func blacklistPolicy(cfg *config.Config) blacklist.Policy {
	return blacklist.Policy{Threshold: cfg.Blacklist.FlagsThreshold, Window: cfg.Blacklist.Window, Block: cfg.Blacklist.BlockDuration}
}

// flowBlocklist adapts a blacklist.Store to ivr.Blocklist.
type flowBlocklist struct{ s blacklist.Store }

// Blocked implements ivr.Blocklist.
func (b flowBlocklist) Blocked(ctx context.Context, hash string, now time.Time) (bool, string, error) {
	e, ok, err := b.s.Blocked(ctx, hash, now)
	return ok, e.Reason, err
}
