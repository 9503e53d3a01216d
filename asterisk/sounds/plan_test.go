package sounds

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/helpline-it/helpline/config"
)

func exampleConfig(t *testing.T, replace ...string) *config.Config {
	t.Helper()
	text := string(config.ExampleYAML())
	for i := 0; i+1 < len(replace); i += 2 {
		if !strings.Contains(text, replace[i]) {
			t.Fatalf("example has no %q", replace[i])
		}
		text = strings.Replace(text, replace[i], replace[i+1], 1)
	}
	cfg, err := config.Parse("helpline.yaml", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func find(items []Item, name string) (Item, bool) {
	i := slices.IndexFunc(items, func(it Item) bool { return it.Name == name })
	if i < 0 {
		return Item{}, false
	}
	return items[i], true
}

// TestPlanExample checks the files the example configuration needs and
// the words each says.
func TestPlanExample(t *testing.T) {
	items, warnings, err := Plan(exampleConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	// Every word of every built-in text is in some file: no warning.
	if len(warnings) != 0 {
		t.Errorf("warnings: %v", warnings)
	}
	cases := []struct{ name, lang, text string }{
		// The example overrides the Italian welcome.
		{"helpline/it/welcome", "it", "Grazie per aver chiamato il 1522, il numero antiviolenza e antistalking. La chiamata è gratuita e anonima."},
		// Words before {digit}: the digit is said by Asterisk.
		{"helpline/it/menu", "it", "Per l'italiano, premi"},
		{"helpline/fr/menu", "fr", "Pour le français, tapez"},
		// Words on both sides of {minutes}: two files.
		{"helpline/de/queue_wait", "de", "Die voraussichtliche Wartezeit beträgt etwa"},
		{"helpline/de/minutes", "de", "Minuten."},
		{"helpline/ar/queue_position", "ar", "ترتيبك في قائمة الانتظار هو"},
		// Words after {position}: a file of their own.
		{"helpline/en/queue_position", "en", "You are number"},
		{"helpline/en/queue_position_end", "en", "in the queue."},
		{"helpline/de/queue_position_end", "de", "in der Warteschlange."},
		// The example's English menu is a recording of its own.
		{"custom/for-english-press", "en", "For English, press"},
		// Operator prompts of the default language.
		{"helpline/it/operator_logged_in", "it", "Accesso effettuato."},
		// The blacklist message, in the language of its path.
		{"helpline/it/rejected", "it", "Questo numero al momento non può raggiungere il servizio. In caso di pericolo chiama il 112."},
		// Digits for digits: and number: media.
		{"ar/digits/7", "ar", "7"},
		{"de/digits/20", "de", "20"},
		{"es/digits/90", "es", "90"},
	}
	for _, c := range cases {
		it, ok := find(items, c.name)
		if !ok {
			t.Errorf("no %s", c.name)
			continue
		}
		if it.Lang != c.lang || it.Text != c.text {
			t.Errorf("%s: %s %q, want %s %q", c.name, it.Lang, it.Text, c.lang, c.text)
		}
	}
	if _, ok := find(items, "helpline/en/menu"); ok {
		t.Error("helpline/en/menu planned although the example replaces it with custom/for-english-press")
	}
	if !slices.IsSortedFunc(items, func(a, b Item) int { return strings.Compare(a.Name, b.Name) }) {
		t.Error("items are not sorted by name")
	}
	// 6 languages × (10 caller prompts + minutes + 29 numbers), the 6
	// operator prompts per language that has built-in texts, the
	// rejection message, the words after {position} in en, fr and de;
	// minus helpline/en/menu, plus custom/….
	if want := 6*(10+1+len(Numbers())) + 6*6 + 1 + 3; len(items) != want {
		t.Errorf("%d items, want %d", len(items), want)
	}
}

func TestPlanProblems(t *testing.T) {
	cases := []struct {
		name    string
		replace []string
		from    string
		msg     string
	}{
		{"two sounds, no placeholder between", []string{"sound: sound:helpline/it/welcome", "sound: [sound:helpline/it/w1, sound:helpline/it/w2]"},
			"prompts.it.welcome", "cannot tell which words"},
		{"placeholder the text lacks", []string{`sound: [sound:custom/for-english-press, "digits:{digit}"]`, `sound: [sound:custom/for-english-press, "digits:{digit}", sound:custom/after]`},
			"prompts.en.menu", "would say nothing"},
		{"path escaping the directory", []string{"sound: sound:helpline/it/welcome", "sound: sound:../../etc/passwd"},
			"prompts.it.welcome", "not a relative path"},
		{"one sound for two texts", []string{`sound: [sound:custom/for-english-press, "digits:{digit}"]`, `sound: [sound:helpline/it/menu, "digits:{digit}"]`},
			"prompts.en.menu", "already says"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Plan(exampleConfig(t, tc.replace...))
			var ps Problems
			if !errors.As(err, &ps) {
				t.Fatalf("got %v, want Problems", err)
			}
			for _, p := range ps {
				if p.From == tc.from && strings.Contains(p.Msg, tc.msg) {
					return
				}
			}
			t.Errorf("no problem at %s with %q; got\n%v", tc.from, tc.msg, err)
		})
	}
}

func TestSplit(t *testing.T) {
	cases := []struct {
		text  string
		sound []string
		want  []string // name=text
		err   string
		warn  string
	}{
		{"Press {digit}.", []string{"sound:a", "digits:{digit}"}, []string{"a=Press"}, "", ""},
		{"About {minutes} minutes.", []string{"sound:a", "number:{minutes}", "sound:b"}, []string{"a=About", "b=minutes."}, "", ""},
		{"Hello.", []string{"tone:ring", "sound:a"}, []string{"a=Hello."}, "", ""},
		{"Hello.", []string{"recording:studio/hello"}, nil, "", ""},
		{"Press {digit} now", []string{"sound:a", "digits:{digit}"}, []string{"a=Press"}, "", `"now" after the last value`},
		{"Say {digit} and {position} then", []string{"digits:{digit}", "sound:b", "number:{position}", "sound:c"}, nil, `the words "Say"`, ""},
		{"You are {position}.", []string{"sound:a", "number:{minutes}"}, nil, "does not have", ""},
		{"", []string{"sound:a"}, nil, "no text", ""},
		{"Hi {digit}", []string{"sound:a{digit}"}, nil, "placeholder in its name", ""},
	}
	for _, tc := range cases {
		items, warn, p := split("en", "x", config.Prompt{Text: tc.text, Sound: tc.sound})
		if tc.warn != "" {
			if warn == nil || !strings.Contains(warn.Msg, tc.warn) {
				t.Errorf("%q %v: warning %v, want %q", tc.text, tc.sound, warn, tc.warn)
			}
		} else if warn != nil {
			t.Errorf("%q %v: unexpected warning %v", tc.text, tc.sound, warn)
		}
		if tc.err != "" {
			if p == nil || !strings.Contains(p.Msg, tc.err) {
				t.Errorf("%q %v: got %v, want problem %q", tc.text, tc.sound, p, tc.err)
			}
			continue
		}
		if p != nil {
			t.Errorf("%q %v: %v", tc.text, tc.sound, p)
			continue
		}
		var got []string
		for _, it := range items {
			got = append(got, it.Name+"="+it.Text)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%q %v: %v, want %v", tc.text, tc.sound, got, tc.want)
		}
	}
}

func TestLookupEspeak(t *testing.T) {
	cases := []struct {
		have []string
		want string
	}{
		{nil, "espeak-ng and sox not found; on Debian or Ubuntu install them with: apt-get install espeak-ng sox"},
		{[]string{"espeak-ng"}, "sox not found; on Debian or Ubuntu install them with: apt-get install sox"},
		{[]string{"sox"}, "apt-get install espeak-ng"},
	}
	for _, tc := range cases {
		_, err := LookupEspeak(func(name string) (string, error) {
			if slices.Contains(tc.have, name) {
				return "/usr/bin/" + name, nil
			}
			return "", errors.New("not found")
		})
		if !errors.Is(err, ErrToolsMissing) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("have %v: got %v, want …%s", tc.have, err, tc.want)
		}
	}
	e, err := LookupEspeak(func(name string) (string, error) { return "/opt/bin/" + name, nil })
	if err != nil || e.EspeakPath != "/opt/bin/espeak-ng" || e.SoxPath != "/opt/bin/sox" {
		t.Errorf("got %+v, %v", e, err)
	}
}

// TestRenderCommands checks the exact commands, without running them: the
// text from a file (never an argument), the voice, and sox's 8 kHz mono
// 16-bit output.
func TestRenderCommands(t *testing.T) {
	var ran [][]string
	var text string
	e := &Espeak{EspeakPath: "/usr/bin/espeak-ng", SoxPath: "/usr/bin/sox", run: func(_ context.Context, name string, args ...string) error {
		ran = append(ran, append([]string{name}, args...))
		if name == "/usr/bin/espeak-ng" {
			data, err := os.ReadFile(args[slices.Index(args, "-f")+1])
			if err != nil {
				return err
			}
			text = string(data)
		}
		return nil
	}}
	if err := e.Render(context.Background(), "pt-BR", "-v --help; $(rm -rf /)", "/out/x.wav"); err != nil {
		t.Fatal(err)
	}
	if len(ran) != 2 {
		t.Fatalf("ran %d commands", len(ran))
	}
	es, sox := ran[0], ran[1]
	tmp := es[len(es)-1]
	want := []string{"/usr/bin/espeak-ng", "-v", "pt-br", "-s", "150", "-f", es[6], "-w", tmp}
	if !slices.Equal(es, want) {
		t.Errorf("espeak-ng: %q, want %q", es, want)
	}
	if text != "-v --help; $(rm -rf /)\n" {
		t.Errorf("text file holds %q", text)
	}
	want = []string{"/usr/bin/sox", tmp, "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", "/out/x.wav", "gain", "-n", "-3"}
	if !slices.Equal(sox, want) {
		t.Errorf("sox: %q, want %q", sox, want)
	}
	if _, err := os.Stat(filepath.Dir(tmp)); !os.IsNotExist(err) {
		t.Errorf("temporary directory %s left behind", filepath.Dir(tmp))
	}
}

// fakeSynth writes the language and text into the file, so Build's
// layout can be checked without espeak-ng.
type fakeSynth struct{ failOn string }

func (f fakeSynth) Render(_ context.Context, lang, text, out string) error {
	if text == f.failOn {
		return errors.New("synth failed")
	}
	return os.WriteFile(out, []byte(lang+":"+text), 0o600)
}

func TestBuildLayout(t *testing.T) {
	items, _, err := Plan(exampleConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var done int
	if err := Build(context.Background(), dir, items, fakeSynth{}, func(n int, _ Item) { done = n }); err != nil {
		t.Fatal(err)
	}
	if done != len(items) {
		t.Errorf("progress reached %d of %d", done, len(items))
	}
	for path, want := range map[string]string{
		"helpline/it/menu.wav":         "it:Per l'italiano, premi",
		"helpline/ar/welcome.wav":      "ar:شكرًا لاتصالك بخط المساعدة لمناهضة العنف والملاحقة. المكالمة مجانية ومجهولة الهوية.",
		"helpline/de/minutes.wav":      "de:Minuten.",
		"custom/for-english-press.wav": "en:For English, press",
		"fr/digits/3.wav":              "fr:3",
	} {
		data, err := os.ReadFile(filepath.Join(dir, path))
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if string(data) != want {
			t.Errorf("%s = %q, want %q", path, data, want)
		}
		if st, _ := os.Stat(filepath.Join(dir, path)); st.Mode().Perm() != 0o644 {
			t.Errorf("%s: mode %o, want 644 (Asterisk must read it)", path, st.Mode().Perm())
		}
	}
	var tmp []string
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, _ error) error {
		if strings.Contains(d.Name(), ".tmp.") {
			tmp = append(tmp, p)
		}
		return nil
	})
	if len(tmp) > 0 {
		t.Errorf("temporary files left: %v", tmp)
	}
}

func TestBuildFailureNamesThePrompt(t *testing.T) {
	items, _, err := Plan(exampleConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	err = Build(context.Background(), t.TempDir(), items, fakeSynth{failOn: "Minuten."}, nil)
	if err == nil || !strings.Contains(err.Error(), "helpline/de/minutes (prompts.de.queue_wait)") {
		t.Errorf("got %v", err)
	}
}

func TestHoldMusicCommand(t *testing.T) {
	e := &Espeak{SoxPath: "sox"}
	cmd := e.HoldMusicCommand("/x/p.wav")
	for _, want := range []string{"-r 8000 -c 1 -b 16 -e signed-integer /x/p.wav", "synth 60"} {
		if !strings.Contains(strings.Join(cmd, " "), want) {
			t.Errorf("%q lacks %q", cmd, want)
		}
	}
}
