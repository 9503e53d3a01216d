// Package ivr is the inbound call flow of the helpline, engine-neutral:
// blacklist, welcome, language menu, queue with music and announcements,
// voicemail, ringing operators and the talk, down to the one CDR each call
// leaves. It drives a Call (engine.go) that ari-app implements on Asterisk
// and esl-bridge on FreeSWITCH, so both engines run exactly one flow.
package ivr
