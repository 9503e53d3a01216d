// Package sounds renders the switchboard's prompts as speech, so that a
// new installation speaks before a studio has recorded anything.
//
// helpline.yaml gives every prompt a text and the media Asterisk plays
// (sound:helpline/it/welcome, digits:{digit}, …); the texts are the
// script a studio would read. Plan reads that script back: for each
// sound: file it finds the words the file must say, splitting a text at
// the placeholders the engine says itself ("Per l'italiano, premi {digit}."
// with [sound:helpline/it/menu, digits:{digit}] gives the file
// helpline/it/menu the words "Per l'italiano, premi"). Build then renders
// each file with a Synth (espeak-ng and sox in production) as the 8 kHz,
// mono, 16-bit WAV Asterisk plays without transcoding, under the sounds
// directory at the path the media URI names. The same layout takes the
// studio's recordings later: replace the files, change nothing else.
//
// Plan also lists, per language, the digits and small numbers Asterisk says
// for digits: and number: media (sounds/<lang>/digits/N), because
// Asterisk's own sound packages lack several of the helpline's languages
// (Arabic and German among them) and the pinned container image ships
// none.
package sounds

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/helpline-it/helpline/config"
)

// Item is one sound file to render.
type Item struct {
	// Name is the file's path under the sounds directory, without
	// extension, as a sound: media URI names it (helpline/it/welcome).
	Name string
	// Lang is the language to speak it in.
	Lang string
	// Text is what it says.
	Text string
	// From names where the text comes from, for messages
	// (prompts.it.welcome).
	From string
}

// Problem is a prompt whose sound files cannot be rendered from its text.
type Problem struct {
	From string // prompts.<lang>.<id> or blacklist.message
	Msg  string
}

// Error formats the problem as key: message.
func (p Problem) Error() string { return p.From + ": " + p.Msg }

// Problems is every problem Plan found.
type Problems []Problem

// Error joins the problems, one per line.
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

// soundName is a safe relative path: no "..", no absolute path, nothing a
// shell or Asterisk would read differently.
var soundName = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_-]*(/[A-Za-z0-9_][A-Za-z0-9_.-]*)*$`)

// Numbers lists the digits/N files Plan adds per language: enough for
// digits: media and for number: up to 20 and the tens, which covers menu
// keys, queue positions and waits in minutes as Asterisk composes them.
func Numbers() []int {
	n := make([]int, 0, 29)
	for i := 0; i <= 20; i++ {
		n = append(n, i)
	}
	for i := 30; i <= 90; i += 10 {
		n = append(n, i)
	}
	return n
}

// Plan lists the sound files cfg refers to with the text each must say,
// sorted by name, plus the digits of every configured language. A
// prompt whose media cannot be matched to words of its text (two sound:
// files with no placeholder between them, a placeholder the text does not
// have) is a Problem; every one is reported at once, as Problems. Words
// of a text that no sound file says (after the last placeholder, when
// the media list ends with it) are not an error: the files are rendered
// and warnings says which words callers will not hear.
func Plan(cfg *config.Config) (items []Item, warnings Problems, err error) {
	byName := map[string]Item{}
	var problems Problems
	add := func(it Item) {
		if prev, ok := byName[it.Name]; ok && prev.Text != it.Text {
			problems = append(problems, Problem{it.From, fmt.Sprintf("sound:%s already says %q for %s; give this text its own sound", it.Name, prev.Text, prev.From)})
			return
		}
		if _, ok := byName[it.Name]; !ok {
			byName[it.Name] = it
		}
	}
	for _, l := range cfg.Languages {
		set := cfg.Prompts[l.Code]
		ids := slices.Sorted(maps.Keys(set))
		for _, id := range ids {
			items, warn, err := split(l.Code, "prompts."+l.Code+"."+string(id), set[id])
			if err != nil {
				problems = append(problems, *err)
			}
			if warn != nil {
				warnings = append(warnings, *warn)
			}
			for _, it := range items {
				add(it)
			}
		}
		for _, n := range Numbers() {
			add(Item{Name: l.Code + "/digits/" + strconv.Itoa(n), Lang: l.Code, Text: strconv.Itoa(n), From: "digits"})
		}
	}
	msgLang := cfg.IVR.DefaultLanguage
	msg, warn, perr := split(msgLang, "blacklist.message", cfg.Blacklist.Message)
	if perr != nil {
		problems = append(problems, *perr)
	}
	if warn != nil {
		warnings = append(warnings, *warn)
	}
	for _, it := range msg {
		// The built-in message is Italian whatever the default language:
		// speak it in the language its path names, if any.
		if lang, ok := pathLanguage(it.Name); ok {
			it.Lang = lang
		}
		add(it)
	}
	if len(problems) > 0 {
		return nil, warnings, problems
	}
	items = slices.Collect(maps.Values(byName))
	slices.SortFunc(items, func(a, b Item) int { return strings.Compare(a.Name, b.Name) })
	return items, warnings, nil
}

// languageCode is what a language directory looks like.
var languageCode = regexp.MustCompile(`^[a-z]{2,3}(-[a-z0-9]{2,8})?$`)

// pathLanguage reads the language out of helpline/<lang>/<name>.
func pathLanguage(name string) (string, bool) {
	parts := strings.Split(name, "/")
	if len(parts) == 3 && parts[0] == "helpline" && languageCode.MatchString(parts[1]) {
		return parts[1], true
	}
	return "", false
}

// split matches a prompt's sound: media to the words of its text. The
// text is cut at its placeholders; each sound: file says the words up to
// the next placeholder its media list plays.
func split(lang, from string, p config.Prompt) ([]Item, *Problem, *Problem) {
	fail := func(format string, args ...any) ([]Item, *Problem, *Problem) {
		return nil, nil, &Problem{from, fmt.Sprintf(format, args...)}
	}
	var sounds int
	for _, m := range p.Sound {
		if strings.HasPrefix(m, "sound:") {
			sounds++
		}
	}
	if sounds == 0 {
		return nil, nil, nil // nothing of ours to render (recording:, tone:, …)
	}
	if strings.TrimSpace(p.Text) == "" {
		return fail("has sound files but no text to render them from")
	}
	segments, holders := cut(p.Text)
	seg := 0
	said := make([]bool, len(segments))
	var out []Item
	for _, m := range p.Sound {
		if name, ok := strings.CutPrefix(m, "sound:"); ok {
			switch {
			case strings.ContainsAny(name, "{}"):
				return fail("sound:%s has a placeholder in its name; a rendered file cannot change with the value", name)
			case !soundName.MatchString(name) || strings.Contains(name, ".."):
				return fail("sound:%s is not a relative path of letters, digits, _ - . and /", name)
			case seg >= len(segments) || said[seg]:
				return fail("cannot tell which words of the text sound:%s says: put a placeholder between two sound files, or record it yourself", name)
			}
			words := strings.TrimSpace(segments[seg])
			if !hasWords(words) {
				return fail("sound:%s would say nothing: the text has no words before the next placeholder", name)
			}
			said[seg] = true
			out = append(out, Item{Name: name, Lang: lang, Text: words, From: from})
			continue
		}
		for _, h := range placeholdersIn(m) {
			if seg >= len(holders) || holders[seg] != h {
				return fail("%s plays {%s}, which the text does not have at that point", m, h)
			}
			seg++
		}
	}
	var warn *Problem
	for i, s := range segments {
		if said[i] || !hasWords(s) {
			continue
		}
		if i < seg {
			return fail("the words %q of the text are in no sound: file", strings.TrimSpace(s))
		}
		warn = &Problem{from, fmt.Sprintf("the words %q after the last value are in no sound: file, so callers will not hear them; end the sound list with a sound: file saying them", strings.TrimSpace(s))}
	}
	return out, warn, nil
}

// cut splits text at its {placeholders}: n placeholders, n+1 segments.
func cut(text string) (segments, holders []string) {
	for {
		i := strings.IndexByte(text, '{')
		j := strings.IndexByte(text[max(i, 0):], '}')
		if i < 0 || j < 0 {
			return append(segments, text), holders
		}
		segments = append(segments, text[:i])
		holders = append(holders, text[i+1:i+j])
		text = text[i+j+1:]
	}
}

func placeholdersIn(s string) []string {
	_, h := cut(s)
	return h
}

// hasWords reports whether s has a letter or digit (punctuation alone is
// not worth a file).
func hasWords(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }) >= 0
}
