package asterisk

import (
	"slices"
	"strings"
)

// codec is an audio format name pjsip.conf's allow= accepts in Asterisk 22
// (the audio entries registered by main/codec_builtin.c), with the module
// that transcodes it to signed linear.
type codec struct {
	// module transcodes the codec ("" when codec_resample or nothing is
	// needed: signed linear at any rate).
	module string
	// external is set when the module is not part of Asterisk's source
	// tree (a binary download or a third-party build): a stock build, and
	// the pinned container image, lack it, and a call that needs it
	// transcoded fails.
	external bool
	// attr is the format attribute module SDP negotiation needs, if any.
	attr string
}

// audioCodecs lists Asterisk 22's audio codec names. Video and text
// formats (h264, vp8, t140, …) are left out on purpose: helpline's calls
// are voice only, and offering video to a softphone only invites a
// negotiation nobody needs.
func audioCodecs() map[string]codec {
	return map[string]codec{
		"ulaw":     {module: "codec_ulaw"},
		"alaw":     {module: "codec_alaw"},
		"gsm":      {module: "codec_gsm"},
		"g722":     {module: "codec_g722"},
		"g726":     {module: "codec_g726"},
		"g726aal2": {module: "codec_g726"},
		"adpcm":    {module: "codec_adpcm"},
		"ilbc":     {module: "codec_ilbc"},
		"lpc10":    {module: "codec_lpc10"},
		"speex":    {module: "codec_speex"},
		"speex16":  {module: "codec_speex"},
		"speex32":  {module: "codec_speex"},
		"codec2":   {module: "codec_codec2"},
		"slin":     {},
		"slin12":   {},
		"slin16":   {},
		"slin24":   {},
		"slin32":   {},
		"slin44":   {},
		"slin48":   {},
		"slin96":   {},
		"slin192":  {},
		"opus":     {module: "codec_opus", external: true, attr: "res_format_attr_opus"},
		"g729":     {module: "codec_g729", external: true, attr: "res_format_attr_g729"},
		"g723":     {module: "codec_g723", external: true},
		"siren7":   {module: "codec_siren7", external: true, attr: "res_format_attr_siren7"},
		"siren14":  {module: "codec_siren14", external: true, attr: "res_format_attr_siren14"},
		"g719":     {external: true},
	}
}

// codecProblem says what is wrong with a codec name, or "" when Asterisk
// 22 accepts it.
func codecProblem(name string) string {
	known := audioCodecs()
	if _, ok := known[name]; ok {
		return ""
	}
	switch {
	case name == "all" || strings.HasPrefix(name, "!"):
		return "list the codecs one by one; \"all\" and \"!codec\" would offer codecs Asterisk cannot transcode"
	case strings.Contains(name, ","):
		return "write one codec per list item, not a comma-separated string"
	}
	if _, ok := known[strings.ToLower(name)]; ok {
		return "codec names are lowercase: write " + strings.ToLower(name)
	}
	names := make([]string, 0, len(known))
	for n := range known {
		names = append(names, n)
	}
	slices.Sort(names)
	return "is not an audio codec Asterisk 22 knows (" + strings.Join(names, ", ") + ")"
}
