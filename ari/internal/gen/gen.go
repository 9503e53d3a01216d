package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"go/format"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"unicode"
)

// ordered is a JSON object decoded with its key order kept: Swagger lists
// properties in a meaningful order and Go maps would lose it.
type ordered[T any] []entry[T]

type entry[T any] struct {
	Key string
	Val T
}

func (o *ordered[T]) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return fmt.Errorf("want a JSON object, got %v", tok)
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		var v T
		if err := dec.Decode(&v); err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
		*o = append(*o, entry[T]{key, v})
	}
	_, err = dec.Token()
	return err
}

type apiDoc struct {
	ResourcePath string          `json:"resourcePath"`
	Models       ordered[*model] `json:"models"`
}

type model struct {
	ID          string             `json:"id"`
	Description string             `json:"description"`
	SubTypes    []string           `json:"subTypes"`
	Properties  ordered[*property] `json:"properties"`

	file string
}

type property struct {
	Type            string `json:"type"`
	Required        bool   `json:"required"`
	Description     string `json:"description"`
	AllowableValues *struct {
		Values []string `json:"values"`
	} `json:"allowableValues"`
}

// schema is every model of every file, in file then declaration order.
type schema struct {
	models []*model
	byName map[string]*model
	events map[string]bool // models that are delivered on the event WebSocket
}

func load(dir string) (*schema, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("no ARI Swagger files (*.json) in %s: set ARI_API_DOCS to Asterisk's rest-api/api-docs directory", dir)
	}
	sort.Strings(paths)
	s := &schema{byName: map[string]*model{}, events: map[string]bool{}}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		var doc apiDoc
		if err := json.Unmarshal(b, &doc); err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Base(p), err)
		}
		for _, e := range doc.Models {
			m := e.Val
			if m.ID == "" {
				m.ID = e.Key
			}
			m.file = filepath.Base(p)
			if _, dup := s.byName[m.ID]; dup {
				return nil, fmt.Errorf("%s: model %s declared twice", m.file, m.ID)
			}
			s.byName[m.ID] = m
			s.models = append(s.models, m)
		}
	}
	msg, ev := s.byName["Message"], s.byName["Event"]
	if msg == nil || ev == nil {
		return nil, fmt.Errorf("%s: events.json with the Message and Event models is missing", dir)
	}
	for _, n := range ev.SubTypes {
		s.events[n] = true
	}
	for _, n := range msg.SubTypes {
		if n != "Event" {
			s.events[n] = true
		}
	}
	for n := range s.events {
		if s.byName[n] == nil {
			return nil, fmt.Errorf("event subtype %s has no model", n)
		}
	}
	return s, nil
}

// Generate renders models_gen.go and events_gen.go from the Swagger files in dir.
func Generate(dir string) (map[string][]byte, error) {
	s, err := load(dir)
	if err != nil {
		return nil, err
	}
	g := &generator{s: s, refBearing: map[string]bool{}}
	g.computeRefBearing()
	models, err := g.models()
	if err != nil {
		return nil, err
	}
	events, err := g.eventsFile()
	if err != nil {
		return nil, err
	}
	return map[string][]byte{"models_gen.go": models, "events_gen.go": events}, nil
}

type generator struct {
	s          *schema
	refBearing map[string]bool
}

// refLeaves are the models naming an Asterisk object that a per-id
// subscription can follow; their appendRefs methods are hand-written in ari.
var refLeaves = map[string]bool{
	"Channel": true, "Bridge": true, "Playback": true, "LiveRecording": true,
	"Endpoint": true, "DeviceState": true,
}

func (g *generator) computeRefBearing() {
	for n := range refLeaves {
		g.refBearing[n] = true
	}
	for changed := true; changed; {
		changed = false
		for _, m := range g.s.models {
			if g.refBearing[m.ID] {
				continue
			}
			for _, p := range m.Properties {
				if g.refBearing[baseType(p.Val.Type)] {
					g.refBearing[m.ID] = true
					changed = true
					break
				}
			}
		}
	}
}

func baseType(t string) string {
	if strings.HasPrefix(t, "List[") && strings.HasSuffix(t, "]") {
		return t[len("List[") : len(t)-1]
	}
	return t
}

// fieldOrder puts fields in the order a real Asterisk 22 writes them (seen in
// shared/traces), so that a marshalled model reads like Asterisk's own output;
// fields not listed follow in schema order.
var fieldOrder = map[string][]string{
	"Channel":              {"id", "name", "state", "protocol_id", "caller", "connected", "accountcode", "dialplan", "creationtime", "language"},
	"Bridge":               {"id", "technology", "bridge_type", "bridge_class", "creator", "name", "channels", "creationtime", "video_mode", "video_source_id"},
	"LiveRecording":        {"name", "format", "state", "target_uri", "duration", "talking_duration", "silence_duration", "cause"},
	"AsteriskPing":         {"ping", "timestamp", "asterisk_id"},
	"BuildInfo":            {"os", "kernel", "machine", "options", "date", "user"},
	"ChannelHangupRequest": {"cause", "soft", "tech_cause"},
	"Dial":                 {"caller", "dialstatus", "forward", "dialstring", "peer", "forwarded"},
}

// mapOfStrings are "object" properties that Asterisk always fills with
// string values (channel and bridge variables); they get a typed map.
var mapOfStrings = map[string]bool{
	"Channel.channelvars": true, "Bridge.bridgevars": true, "Variables.variables": true,
	"TextMessage.variables": true,
}

// wordNames fixes Go names of run-together schema words.
var wordNames = map[string]string{
	"id": "ID", "ids": "IDs", "uri": "URI", "uniqueid": "UniqueID", "ssrc": "SSRC", "rtt": "RTT",
	"ms": "MS", "usec": "Usec", "txt": "Txt", "rdnis": "RDNIS", "os": "OS", "setid": "SetID",
	"creationtime": "CreationTime", "channelvars": "ChannelVars", "bridgevars": "BridgeVars",
	"dialstatus": "DialStatus", "dialstring": "DialString", "musicclass": "MusicClass",
	"eventname": "EventName", "userevent": "UserEvent", "accountcode": "AccountCode",
	"tenantid": "TenantID", "dtmf": "DTMF", "absorbdtmf": "AbsorbDTMF",
	"txcount": "TxCount", "rxcount": "RxCount", "txjitter": "TxJitter", "rxjitter": "RxJitter",
	"txploss": "TxPloss", "rxploss": "RxPloss", "txoctetcount": "TxOctetCount", "rxoctetcount": "RxOctetCount",
	"maxrtt": "MaxRTT", "minrtt": "MinRTT", "normdevrtt": "NormDevRTT", "stdevrtt": "StdevRTT",
	"maxjitter": "MaxJitter", "minjitter": "MinJitter", "normdevjitter": "NormDevJitter", "stdevjitter": "StdevJitter",
	"maxrxploss": "MaxRxPloss", "minrxploss": "MinRxPloss", "normdevrxploss": "NormDevRxPloss", "stdevrxploss": "StdevRxPloss",
}

// typeNames gives Go names to schema models whose names break Go's initialism style.
var typeNames = map[string]string{"SetId": "SetID"}

func typeName(model string) string {
	if n, ok := typeNames[model]; ok {
		return n
	}
	return model
}

func goName(s string) string {
	var b strings.Builder
	for _, w := range strings.FieldsFunc(s, func(r rune) bool { return r == '_' || r == '-' || r == ' ' }) {
		if n, ok := wordNames[strings.ToLower(w)]; ok {
			b.WriteString(n)
			continue
		}
		if strings.ToUpper(w) == w {
			w = strings.ToLower(w)
		}
		r := []rune(w)
		r[0] = unicode.ToUpper(r[0])
		b.WriteString(string(r))
	}
	return b.String()
}

type field struct {
	json, name, typ, tag, doc string
	prop                      *property
}

func (g *generator) fields(m *model) ([]field, error) {
	props := slices.Clone(m.Properties)
	if order, ok := fieldOrder[m.ID]; ok {
		rank := func(k string) int {
			if i := slices.Index(order, k); i >= 0 {
				return i
			}
			return len(order)
		}
		slices.SortStableFunc(props, func(a, b entry[*property]) int { return rank(a.Key) - rank(b.Key) })
	}
	var fs []field
	for _, e := range props {
		p := e.Val
		typ, omit, err := g.goType(m.ID+"."+e.Key, p)
		if err != nil {
			return nil, fmt.Errorf("%s: model %s property %s: %w", m.file, m.ID, e.Key, err)
		}
		tag := e.Key
		if omit != "" {
			tag += "," + omit
		}
		fs = append(fs, field{json: e.Key, name: goName(e.Key), typ: typ, tag: tag, doc: p.Description, prop: p})
	}
	return fs, nil
}

// goType maps a Swagger type. Required properties are plain values. Optional
// numbers and booleans are pointers, because zero is meaningful (cause 0 is
// "Unknown"; soft=false differs from no soft flag); optional strings, lists
// and objects are omitted when empty, because Asterisk gives "" and absent
// the same meaning there; optional models are pointers.
func (g *generator) goType(path string, p *property) (typ, omit string, err error) {
	t := p.Type
	if strings.HasPrefix(t, "List[") {
		inner, _, err := g.goType(path+"[]", &property{Type: baseType(t), Required: true})
		if err != nil {
			return "", "", err
		}
		if !p.Required {
			omit = "omitempty"
		}
		return "[]" + inner, omit, nil
	}
	scalar := map[string]string{"string": "string", "int": "int", "long": "int64", "double": "float64", "boolean": "bool"}
	switch {
	case t == "string":
		if !p.Required {
			omit = "omitempty"
		}
		return "string", omit, nil
	case scalar[t] != "":
		if p.Required {
			return scalar[t], "", nil
		}
		return "*" + scalar[t], "omitempty", nil
	case t == "Date":
		if !p.Required {
			omit = "omitzero"
		}
		return "Time", omit, nil
	case t == "object":
		if !p.Required {
			omit = "omitempty"
		}
		if mapOfStrings[path] {
			return "map[string]string", omit, nil
		}
		return "json.RawMessage", omit, nil
	case g.s.byName[t] != nil:
		if p.Required {
			return typeName(t), "", nil
		}
		return "*" + typeName(t), "omitempty", nil
	}
	return "", "", fmt.Errorf("unknown type %q", t)
}

const header = "// Code generated by ari/internal/gen from Asterisk's ARI Swagger files; DO NOT EDIT.\n\n"

func comment(b *bytes.Buffer, indent, lead, desc string) {
	desc = strings.Join(strings.Fields(desc), " ")
	text := lead
	if desc != "" {
		text += ": " + desc
	}
	if !strings.HasSuffix(text, ".") {
		text += "."
	}
	// wrap at ~100 columns
	line := indent + "//"
	for _, w := range strings.Fields(text) {
		if len(line)+1+len(w) > 100 && line != indent+"//" {
			b.WriteString(line + "\n")
			line = indent + "//"
		}
		line += " " + w
	}
	b.WriteString(line + "\n")
}

func (g *generator) writeStruct(b *bytes.Buffer, m *model, isEvent bool) error {
	fs, err := g.fields(m)
	if err != nil {
		return err
	}
	kind := "model"
	if isEvent {
		kind = "event"
	}
	comment(b, "", fmt.Sprintf("%s is the ARI %s %s (%s)", typeName(m.ID), kind, m.ID, m.file), m.Description)
	fmt.Fprintf(b, "type %s struct {\n", typeName(m.ID))
	if isEvent {
		b.WriteString("\tHeader\n")
	}
	for _, f := range fs {
		req := "optional"
		if f.prop.Required {
			req = "required"
		}
		comment(b, "\t", fmt.Sprintf("%s is %q (%s %s)", f.name, f.json, req, f.prop.Type), f.doc)
		fmt.Fprintf(b, "\t%s %s `json:%q`\n", f.name, f.typ, f.tag)
	}
	b.WriteString("}\n\n")
	return nil
}

func enumPrefix(modelName, fieldName string) string {
	switch {
	case strings.HasPrefix(fieldName, modelName):
		return fieldName
	case strings.HasSuffix(modelName, fieldName):
		return modelName
	}
	return modelName + fieldName
}

func (g *generator) writeEnums(b *bytes.Buffer, m *model) error {
	fs, err := g.fields(m)
	if err != nil {
		return err
	}
	for _, f := range fs {
		if f.prop.AllowableValues == nil || len(f.prop.AllowableValues.Values) == 0 {
			continue
		}
		prefix := enumPrefix(typeName(m.ID), f.name)
		fmt.Fprintf(b, "// Values of %s.%s (%q) listed by the schema.\nconst (\n", typeName(m.ID), f.name, f.json)
		for _, v := range f.prop.AllowableValues.Values {
			fmt.Fprintf(b, "\t// %s%s is %s %q.\n\t%s%s = %q\n", prefix, goName(v), f.json, v, prefix, goName(v), v)
		}
		b.WriteString(")\n\n")
	}
	return nil
}

func (g *generator) writeRefs(b *bytes.Buffer, m *model, receiver string) error {
	fs, err := g.fields(m)
	if err != nil {
		return err
	}
	for _, f := range fs {
		bt := baseType(f.prop.Type)
		if !g.refBearing[bt] {
			continue
		}
		switch {
		case strings.HasPrefix(f.typ, "[]"):
			fmt.Fprintf(b, "\tfor i := range %s.%s {\n\t\tdst = %s.%s[i].appendRefs(dst)\n\t}\n", receiver, f.name, receiver, f.name)
		case strings.HasPrefix(f.typ, "*"):
			fmt.Fprintf(b, "\tif %s.%s != nil {\n\t\tdst = %s.%s.appendRefs(dst)\n\t}\n", receiver, f.name, receiver, f.name)
		default:
			fmt.Fprintf(b, "\tdst = %s.%s.appendRefs(dst)\n", receiver, f.name)
		}
	}
	return nil
}

func (g *generator) models() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(header + "package ari\n\n")
	for _, m := range g.s.models {
		if g.s.events[m.ID] || m.ID == "Message" || m.ID == "Event" {
			continue
		}
		if err := g.writeStruct(&b, m, false); err != nil {
			return nil, err
		}
		if err := g.writeEnums(&b, m); err != nil {
			return nil, err
		}
		if g.refBearing[m.ID] && !refLeaves[m.ID] {
			fmt.Fprintf(&b, "func (m *%s) appendRefs(dst []Ref) []Ref {\n", typeName(m.ID))
			if err := g.writeRefs(&b, m, "m"); err != nil {
				return nil, err
			}
			b.WriteString("\treturn dst\n}\n\n")
		}
	}
	return gofmt("models_gen.go", b.Bytes())
}

func (g *generator) eventNames() []string {
	var names []string
	for _, m := range g.s.models {
		if g.s.events[m.ID] {
			names = append(names, m.ID)
		}
	}
	return names
}

func (g *generator) eventsFile() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(header + "package ari\n\n")
	names := g.eventNames()
	for _, n := range names {
		m := g.s.byName[n]
		if err := g.writeStruct(&b, m, true); err != nil {
			return nil, err
		}
		if err := g.writeEnums(&b, m); err != nil {
			return nil, err
		}
		fmt.Fprintf(&b, "// Refs lists the Asterisk objects the %s event concerns.\n", n)
		fmt.Fprintf(&b, "func (e *%s) Refs() []Ref {\n", n)
		if g.refBearing[n] {
			b.WriteString("\tvar dst []Ref\n")
			if err := g.writeRefs(&b, m, "e"); err != nil {
				return nil, err
			}
			b.WriteString("\treturn dst\n}\n\n")
		} else {
			b.WriteString("\treturn nil\n}\n\n")
		}
	}
	b.WriteString("// Event type names as Asterisk sends them in the \"type\" key.\nconst (\n")
	for _, n := range names {
		fmt.Fprintf(&b, "\t// Type%s is the \"type\" of a %s event.\n\tType%s = %q\n", n, n, n, n)
	}
	b.WriteString(")\n\n")
	b.WriteString("// KnownEventTypes returns the event types of the ARI schema this package was generated from, in schema order.\n")
	b.WriteString("func KnownEventTypes() []string {\n\treturn []string{\n")
	for _, n := range names {
		fmt.Fprintf(&b, "\t\tType%s,\n", n)
	}
	b.WriteString("\t}\n}\n\n")
	b.WriteString("// newEvent returns a zero event of the given type, or nil when the schema does not know the type.\n")
	b.WriteString("func newEvent(typ string) Event {\n\tswitch typ {\n")
	for _, n := range names {
		fmt.Fprintf(&b, "\tcase Type%s:\n\t\treturn new(%s)\n", n, n)
	}
	b.WriteString("\t}\n\treturn nil\n}\n")
	return gofmt("events_gen.go", b.Bytes())
}

func gofmt(name string, src []byte) ([]byte, error) {
	if bytes.Contains(src, []byte("json.")) {
		src = bytes.Replace(src, []byte("package ari\n"), []byte("package ari\n\nimport \"encoding/json\"\n"), 1)
	}
	out, err := format.Source(src)
	if err != nil {
		return nil, fmt.Errorf("%s: generated code does not parse: %w\n%s", name, err, src)
	}
	return out, nil
}
