package report

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
)

// htmlNode is a minimal DOM for structural checks: the page must be
// well-formed enough for an XML decoder in non-strict mode.
type htmlCounts struct {
	slices, circles, heatCells, svgs int
	externals                        []string
}

func countHTML(t *testing.T, page []byte) htmlCounts {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(page))
	dec.Strict = false
	dec.AutoClose = xml.HTMLAutoClose
	dec.Entity = xml.HTMLEntity
	var c htmlCounts
	inSVG := 0
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("page does not parse: %v", err)
		}
		switch el := tok.(type) {
		case xml.StartElement:
			attrs := map[string]string{}
			for _, a := range el.Attr {
				attrs[a.Name.Local] = a.Value
			}
			classes := " " + attrs["class"] + " "
			switch el.Name.Local {
			case "svg":
				c.svgs++
				inSVG++
			case "path":
				if inSVG > 0 && strings.Contains(classes, " slice ") {
					c.slices++
				}
			case "circle":
				if inSVG > 0 && strings.Contains(classes, " slice ") {
					c.circles++
				}
			case "td":
				if strings.Contains(classes, " hm ") {
					c.heatCells++
				}
			case "link", "script", "img", "iframe":
				c.externals = append(c.externals, el.Name.Local)
			}
			for _, k := range []string{"src", "href"} {
				if v, ok := attrs[k]; ok {
					c.externals = append(c.externals, k+"="+v)
				}
			}
		case xml.EndElement:
			if el.Name.Local == "svg" {
				inSVG--
			}
		}
	}
	return c
}

func TestHTMLSeedQuarter(t *testing.T) {
	res := seedResult(t)
	var buf bytes.Buffer
	if err := WriteHTML(&buf, &res, Italian); err != nil {
		t.Fatal(err)
	}
	c := countHTML(t, buf.Bytes())
	if c.slices != 4 || c.circles != 0 {
		t.Errorf("pie has %d slices and %d discs; want 4 slices", c.slices, c.circles)
	}
	if c.heatCells != 7*24 {
		t.Errorf("heat map has %d cells; want 168", c.heatCells)
	}
	if len(c.externals) > 0 {
		t.Errorf("page refers to external resources: %v", c.externals)
	}
	for _, s := range []string{"34.620", "53,3%", "86,2%", "0,3%", "1.594h 18m 30s", "36,5 secondi", "65,7%", `lang="it"`} {
		if !strings.Contains(buf.String(), s) {
			t.Errorf("page lacks %q", s)
		}
	}
	if dir := os.Getenv("REPORT_HTML_OUT"); dir != "" { // for looking at it by hand
		if err := os.WriteFile(dir, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
