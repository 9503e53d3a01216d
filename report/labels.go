package report

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/cases"
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
	"golang.org/x/text/message"
)

// Lang is the language of the rendered report: labels and number format.
type Lang string

// Report languages. Italian is the published report's; English is for
// partners abroad.
const (
	Italian Lang = "it"
	English Lang = "en"
)

// ParseLang accepts "it" or "en" (case-insensitive).
func ParseLang(s string) (Lang, error) {
	switch Lang(strings.ToLower(strings.TrimSpace(s))) {
	case Italian:
		return Italian, nil
	case English:
		return English, nil
	}
	return "", fmt.Errorf("report: unknown language %q (want it or en)", s)
}

// labels are the words of one report language. The Italian ones are the
// published report's own, so that the staff find the tables they know.
type labels struct {
	title, source, na string

	secInbound, colPeriod, colCount, colShareTotal, colShareQueued                  string
	queued, answered, unanswered, voicemail, abandoned, blacklisted, welcome, total string
	change, pieTitle                                                                string

	restartFootnote string

	secTalk, talkTotal, talkAverage, talkFootnote string

	secWait, waitAverage, waitSentence, waitSeconds, waitNone string

	secWeekday, hourDay, tot string
	days                     [7]string

	secOutbound, outAnswered, outBusy, outNoAnswer, outFailed, outTalk, outTotal, outShare string

	part2, part2Note                                                               string
	secLanguages, colLanguage, colOffered, colAnswered, colAbandoned, colVoicemail string
	colUnanswered, colMeanWait, colP90Wait, colWithin20, colWithin60, allLanguages string
	unknownLanguage                                                                string

	secOperators, colOperator, colOpAnswered, colOpTalk, colOpAverage, colOpOut, colOpOutTalk, colOpLogin string
	loginNote, unknownOperator                                                                            string

	definitions []string
	skipped     string

	months        [12]string
	periodFromTo  string
	tzNote        string
	generatedNote string
}

// itLabels are the Italian words (a function, not a package variable, so
// no caller can change them for everyone).
func itLabels() *labels {
	return &labels{
		title:  "Relazione sull'attività del Centralino telefonico",
		source: "Fonte: Centralino",
		na:     "n/d",

		secInbound:     "1. Chiamate in entrata",
		colPeriod:      "Periodo: %s",
		colCount:       "Numero",
		colShareTotal:  "% sul totale",
		colShareQueued: "% entrate in coda",
		queued:         "Numero chiamate entrate in coda",
		answered:       "Numero chiamate risposte",
		unanswered:     "Numero chiamate non risposte",
		voicemail:      "Numero chiamate in segreteria",
		abandoned:      "Chiuse durante l'attesa in coda",
		blacklisted:    "Numero chiamate in blacklist",
		welcome:        "Chiamate chiuse nel corso del messaggio di benvenuto",
		total:          "Totale",
		change:         "Variazione del totale rispetto al periodo precedente (%s)",
		pieTitle:       "Ripartizione chiamate entrate in coda",

		secTalk:      "2. Durata chiamate e tempo medio di conversazione per chiamata",
		talkTotal:    "Durata totale chiamate",
		talkAverage:  "Tempo medio di conversazione per chiamata",
		waitAverage:  "Tempo di attesa medio di trasferimento alle operatrici",
		talkFootnote: "(1) Durata totale delle chiamate risposte diviso il numero delle chiamate risposte (%s ÷ %s).",
		restartFootnote: "Nota: %s chiamate sono cadute per un riavvio del centralino (Asterisk); %s, che non avevano ancora raggiunto un'operatrice, " +
			"sono contate tra le non risposte, le altre hanno mantenuto il proprio esito.",

		secWait:      "3. Tempo di attesa medio di trasferimento alle operatrici",
		waitSentence: "Il tempo che l'utenza attende prima di essere trasferita ad un'operatrice è, in media, di %s.",
		waitSeconds:  "%s secondi",
		waitNone:     "Nessuna chiamata risposta nel periodo: tempo di attesa medio n/d.",

		secWeekday: "4. Distribuzione delle chiamate per giorni della settimana e ore del giorno",
		hourDay:    "Ora / giorno",
		tot:        "Tot",
		days:       [7]string{"Lun", "Mar", "Mer", "Gio", "Ven", "Sab", "Dom"},

		secOutbound: "8. Chiamate alla Rete antiviolenza effettuate dalle operatrici",
		outAnswered: "Numero chiamate risposte",
		outBusy:     "Numero chiamate occupate",
		outNoAnswer: "Numero chiamate non risposte",
		outFailed:   "Numero chiamate non riuscite",
		outTalk:     "Durata chiamate risposte",
		outTotal:    "Totale chiamate",
		outShare:    "Quota chiamate risposte",

		part2:           "Indicatori di servizio",
		part2Note:       "Oltre alle tabelle della relazione pubblicata.",
		secLanguages:    "Chiamate entrate in coda per lingua",
		colLanguage:     "Lingua",
		colOffered:      "In coda",
		colAnswered:     "Risposte",
		colAbandoned:    "Chiuse in attesa",
		colVoicemail:    "Segreteria",
		colUnanswered:   "Non risposte",
		colMeanWait:     "Attesa media",
		colP90Wait:      "Attesa 90° perc.",
		colWithin20:     "Risposte entro 20 s",
		colWithin60:     "Risposte entro 60 s",
		allLanguages:    "Tutte",
		unknownLanguage: "non indicata",

		secOperators:    "Chiamate per operatrice",
		colOperator:     "Operatrice",
		colOpAnswered:   "Risposte",
		colOpTalk:       "Conversazione",
		colOpAverage:    "Media",
		colOpOut:        "In uscita",
		colOpOutTalk:    "Conversazione in uscita",
		colOpLogin:      "Ore di login",
		loginNote:       "Ore di login: n/d finché il centralino non registra gli accessi delle operatrici.",
		unknownOperator: "non indicata",

		definitions: []string{
			"Definizioni",
			"In coda: chiamate entrate nella coda di una lingua (risposte, chiuse in attesa, segreteria, non risposte).",
			"Attesa: dall'ingresso in coda alla connessione con l'operatrice, per le chiamate risposte.",
			"Conversazione: dalla connessione con l'operatrice (o con il servizio chiamato) alla chiusura.",
			"Risposte entro 20 s / 60 s: chiamate risposte con attesa fino a 20 / 60 secondi compresi, sul totale delle chiamate in coda.",
			"Attesa 90° perc.: il 90% delle chiamate risposte ha atteso al massimo questo tempo (rango più vicino).",
			"Quote con un decimale arrotondate col metodo dei resti più grandi, così che sommino a 100,0%.",
		},
		skipped: "Record esclusi: %s fuori periodo, %s di altri servizi, %s con direzione o esito sconosciuti; %s chiamate risposte senza orari completi (escluse dalle sole medie).",

		months:        [12]string{"gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre", "ottobre", "novembre", "dicembre"},
		periodFromTo:  "dal %s al %s",
		tzNote:        "Orari locali (%s).",
		generatedNote: "Periodo: %s.",
	}
}

// enLabels are the English words.
func enLabels() *labels {
	return &labels{
		title:  "Switchboard activity report",
		source: "Source: switchboard",
		na:     "n/a",

		secInbound:     "1. Inbound calls",
		colPeriod:      "Period: %s",
		colCount:       "Calls",
		colShareTotal:  "% of total",
		colShareQueued: "% of queued",
		queued:         "Calls queued",
		answered:       "Calls answered",
		unanswered:     "Calls not answered",
		voicemail:      "Calls to voicemail",
		abandoned:      "Hung up while waiting in queue",
		blacklisted:    "Blacklisted calls",
		welcome:        "Hung up during the welcome message",
		total:          "Total",
		change:         "Change of the total against the previous period (%s)",
		pieTitle:       "Breakdown of queued calls",

		secTalk:      "2. Call duration and average talk time per call",
		talkTotal:    "Total talk time",
		talkAverage:  "Average talk time per call",
		waitAverage:  "Average wait before reaching an operator",
		talkFootnote: "(1) Total talk time of answered calls divided by the number of answered calls (%s ÷ %s).",
		restartFootnote: "Note: %s calls were cut off by a restart of the switchboard (Asterisk); the %s that had not reached an operator yet " +
			"are counted as unanswered, the others kept their outcome.",

		secWait:      "3. Average wait before reaching an operator",
		waitSentence: "Callers wait on average %s before they are put through to an operator.",
		waitSeconds:  "%s seconds",
		waitNone:     "No answered calls in the period: average wait n/a.",

		secWeekday: "4. Calls by day of the week and hour of the day",
		hourDay:    "Hour / day",
		tot:        "Total",
		days:       [7]string{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"},

		secOutbound: "8. Operators' calls to the anti-violence network",
		outAnswered: "Calls answered",
		outBusy:     "Calls busy",
		outNoAnswer: "Calls not answered",
		outFailed:   "Calls failed",
		outTalk:     "Talk time of answered calls",
		outTotal:    "Total calls",
		outShare:    "Share answered",

		part2:           "Service indicators",
		part2Note:       "Beyond the tables of the published report.",
		secLanguages:    "Queued calls by language",
		colLanguage:     "Language",
		colOffered:      "Queued",
		colAnswered:     "Answered",
		colAbandoned:    "Abandoned",
		colVoicemail:    "Voicemail",
		colUnanswered:   "Unanswered",
		colMeanWait:     "Mean wait",
		colP90Wait:      "90th pct wait",
		colWithin20:     "Answered within 20 s",
		colWithin60:     "Answered within 60 s",
		allLanguages:    "All",
		unknownLanguage: "not given",

		secOperators:    "Calls by operator",
		colOperator:     "Operator",
		colOpAnswered:   "Answered",
		colOpTalk:       "Talk time",
		colOpAverage:    "Average",
		colOpOut:        "Outbound",
		colOpOutTalk:    "Outbound talk time",
		colOpLogin:      "Hours logged in",
		loginNote:       "Hours logged in: n/a until the switchboard records operators' log-ins.",
		unknownOperator: "not given",

		definitions: []string{
			"Definitions",
			"Queued: calls that entered a language queue (answered, abandoned, voicemail, unanswered).",
			"Wait: from queue entry to the bridge with an operator, for answered calls.",
			"Talk time: from the bridge with the operator (or the called service) to hang-up.",
			"Answered within 20 s / 60 s: answered calls that waited at most 20 / 60 seconds inclusive, over all queued calls.",
			"90th pct wait: 90% of answered calls waited at most this long (nearest rank).",
			"Shares have one decimal, rounded by largest remainder so that they add up to 100.0%.",
		},
		skipped: "Records left out: %s outside the period, %s of other services, %s with unknown direction or outcome; %s answered calls without complete times (left out of averages only).",

		months:        [12]string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"},
		periodFromTo:  "from %s to %s",
		tzNote:        "Local times (%s).",
		generatedNote: "Period: %s.",
	}
}

// printer formats numbers and words in one report language.
type printer struct {
	lang Lang
	l    *labels
	p    *message.Printer
	tag  language.Tag
}

func newPrinter(lang Lang) *printer {
	if lang == English {
		return &printer{lang: English, l: enLabels(), p: message.NewPrinter(language.English), tag: language.English}
	}
	return &printer{lang: Italian, l: itLabels(), p: message.NewPrinter(language.Italian), tag: language.Italian}
}

// int formats a count with the language's grouping: 34.620 / 34,620.
func (f *printer) int(n int64) string { return f.p.Sprintf("%d", n) }

// dec1 formats with one decimal: 36,5 / 36.5.
func (f *printer) dec1(v float64) string { return f.p.Sprintf("%.1f", round1(v)) }

// pct formats a percentage with one decimal: 86,2% / 86.2%.
func (f *printer) pct(v float64) string { return f.p.Sprintf("%.1f%%", round1(v)) }

// signedPct formats a change: +7,0% / −3,2%.
func (f *printer) signedPct(v float64) string {
	if v > 0 {
		return "+" + f.pct(v)
	}
	return f.pct(v)
}

// duration formats like the published report: "1.594h 18m 30s", and
// "05m 53s" under an hour. Rounded to the second.
func (f *printer) duration(d time.Duration) string {
	s := int64(d.Round(time.Second) / time.Second)
	h, m, sec := s/3600, s/60%60, s%60
	if h > 0 {
		return f.p.Sprintf("%dh %02dm %02ds", h, m, sec)
	}
	return f.p.Sprintf("%02dm %02ds", m, sec)
}

// seconds formats a short wait: "36,5 s".
func (f *printer) seconds(d time.Duration) string { return f.dec1(d.Seconds()) + " s" }

// languageName is the display name of a queue language in the report's
// language ("inglese", "English"), from CLDR via x/text.
func (f *printer) languageName(code string) string {
	if code == "" {
		return f.l.unknownLanguage
	}
	tag, err := language.Parse(code)
	if err != nil {
		return code
	}
	name := display.Tags(f.tag).Name(tag)
	if name == "" {
		return code
	}
	return cases.Title(f.tag).String(name)
}

// date is "1 giugno 2025" / "1 June 2025".
func (f *printer) date(t time.Time) string {
	return strconv.Itoa(t.Day()) + " " + f.l.months[t.Month()-1] + " " + strconv.Itoa(t.Year())
}

// periodName names a period as the published report does ("Giugno -
// Luglio - Agosto 2025") when it is made of whole months, else by its
// first and last day.
func (f *printer) periodName(p Period) string {
	if m := p.Months(); m > 0 && m <= 12 {
		var parts []string
		sameYear := p.From.Year() == p.LastDay().Year()
		for i := range m {
			t := p.From.AddDate(0, i, 0)
			name := cases.Title(f.tag).String(f.l.months[t.Month()-1])
			if !sameYear {
				name += " " + strconv.Itoa(t.Year())
			}
			parts = append(parts, name)
		}
		s := strings.Join(parts, " - ")
		if sameYear {
			s += " " + strconv.Itoa(p.From.Year())
		}
		return s
	}
	return fmt.Sprintf(f.l.periodFromTo, f.date(p.From), f.date(p.LastDay()))
}

// hour is the A.4 row label: "0:00" … "23:00".
func hourLabel(h int) string { return strconv.Itoa(h) + ":00" }
