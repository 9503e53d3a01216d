//go:build prompts

// The real text-to-speech tools are not installed where CI runs, so this
// test is behind the build tag prompts instead of skipping silently:
//
//	apt-get install espeak-ng sox
//	go test -tags prompts ./asterisk/sounds
package sounds

import (
	"context"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestEspeakRendersAsteriskWAV renders one prompt per language with the
// real tools and checks the header Asterisk's format_wav needs: PCM, mono,
// 8000 Hz, 16 bits, and a non-trivial amount of audio.
func TestEspeakRendersAsteriskWAV(t *testing.T) {
	e, err := LookupEspeak(exec.LookPath)
	if err != nil {
		t.Fatal(err) // the tag promises the tools: fail, do not skip
	}
	items, _, err := Plan(exampleConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	var pick []Item
	for _, lang := range []string{"it", "en", "fr", "es", "ar", "de"} {
		it, ok := find(items, "helpline/"+lang+"/welcome")
		if !ok {
			t.Fatalf("no welcome in %s", lang)
		}
		pick = append(pick, it)
	}
	dir := t.TempDir()
	if err := Build(context.Background(), dir, pick, e, nil); err != nil {
		t.Fatal(err)
	}
	for _, it := range pick {
		data, err := os.ReadFile(filepath.Join(dir, it.Name+".wav"))
		if err != nil {
			t.Fatal(err)
		}
		checkWAV(t, it.Name, data, 2*8000*2) // a welcome lasts more than 2 s
	}
	moh, err := e.HoldMusic(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(moh)
	if err != nil {
		t.Fatal(err)
	}
	checkWAV(t, "music on hold", data, 50*8000*2)
}

func checkWAV(t *testing.T, name string, data []byte, minData int) {
	t.Helper()
	if len(data) < 44 || string(data[0:4]) != "RIFF" || string(data[8:12]) != "WAVE" {
		t.Fatalf("%s: not a RIFF/WAVE file", name)
	}
	// Walk the chunks: fmt must say PCM mono 8000 Hz 16-bit.
	var sawFmt bool
	for off := 12; off+8 <= len(data); {
		id, size := string(data[off:off+4]), int(binary.LittleEndian.Uint32(data[off+4:off+8]))
		body := data[off+8 : min(off+8+size, len(data))]
		switch id {
		case "fmt ":
			sawFmt = true
			format, channels := binary.LittleEndian.Uint16(body[0:2]), binary.LittleEndian.Uint16(body[2:4])
			rate, bits := binary.LittleEndian.Uint32(body[4:8]), binary.LittleEndian.Uint16(body[14:16])
			if format != 1 || channels != 1 || rate != 8000 || bits != 16 {
				t.Errorf("%s: format %d, %d channels, %d Hz, %d bits; want PCM 1 8000 16", name, format, channels, rate, bits)
			}
		case "data":
			if !sawFmt {
				t.Errorf("%s: data before fmt", name)
			}
			if len(body) < minData {
				t.Errorf("%s: %d bytes of audio, want at least %d", name, len(body), minData)
			}
			return
		}
		off += 8 + size + size%2
	}
	t.Errorf("%s: no data chunk", name)
}
