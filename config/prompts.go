package config

import (
	"strings"
	"unicode"
)

// PromptID names one thing the switchboard says.
type PromptID string

// Prompts callers hear, in their language.
const (
	PromptWelcome         PromptID = "welcome"         // greeting before the menu
	PromptMenu            PromptID = "menu"            // one menu entry: {digit}
	PromptInvalidChoice   PromptID = "invalid_choice"  // after a wrong or missing key
	PromptQueueEnter      PromptID = "queue_enter"     // on entering the queue
	PromptQueuePosition   PromptID = "queue_position"  // {position}, 1 = next
	PromptQueueWait       PromptID = "queue_wait"      // {minutes}, rounded up
	PromptVoicemailOffer  PromptID = "voicemail_offer" // {digit}
	PromptVoicemailRecord PromptID = "voicemail_record"
	PromptVoicemailSaved  PromptID = "voicemail_saved"
	PromptUnavailable     PromptID = "unavailable" // before hanging up unanswered
)

// Prompts operators hear after a feature code, in ivr.default_language.
const (
	PromptOperatorLoggedIn  PromptID = "operator_logged_in"
	PromptOperatorLoggedOut PromptID = "operator_logged_out"
	PromptOperatorPaused    PromptID = "operator_paused"
	PromptOperatorUnpaused  PromptID = "operator_unpaused"
	PromptOperatorFlagged   PromptID = "operator_flagged"
	PromptOperatorRefused   PromptID = "operator_refused" // code failed or not allowed now
)

// CallerPrompts lists the prompts every language needs.
func CallerPrompts() []PromptID {
	return []PromptID{PromptWelcome, PromptMenu, PromptInvalidChoice, PromptQueueEnter, PromptQueuePosition, PromptQueueWait,
		PromptVoicemailOffer, PromptVoicemailRecord, PromptVoicemailSaved, PromptUnavailable}
}

// OperatorPrompts lists the prompts the default language needs.
func OperatorPrompts() []PromptID {
	return []PromptID{PromptOperatorLoggedIn, PromptOperatorLoggedOut, PromptOperatorPaused,
		PromptOperatorUnpaused, PromptOperatorFlagged, PromptOperatorRefused}
}

// placeholders lists, per prompt, the {names} its text may contain.
func (id PromptID) placeholders() []string {
	switch id {
	case PromptMenu, PromptVoicemailOffer:
		return []string{"digit"}
	case PromptQueuePosition:
		return []string{"position"}
	case PromptQueueWait:
		return []string{"minutes"}
	}
	return nil
}

// Prompt is one thing to say: the media the engine plays, in order (ARI
// media URIs such as sound:helpline/it/welcome or number:{position}), and
// the text they say, used where no recording exists (logs, the demo, a
// future text-to-speech). At least one of the two is set. Both may hold
// the prompt's placeholders; Expand and Media fill them in.
type Prompt struct {
	Text  string
	Sound []string
}

// Expand returns the text with each {name} replaced by values[name].
func (p Prompt) Expand(values map[string]string) string {
	return expand(p.Text, values)
}

// Media returns the media URIs with each {name} replaced by values[name],
// e.g. ["sound:helpline/it/queue_position", "number:3"].
func (p Prompt) Media(values map[string]string) []string {
	out := make([]string, len(p.Sound))
	for i, s := range p.Sound {
		out[i] = expand(s, values)
	}
	return out
}

func expand(s string, values map[string]string) string {
	if len(values) == 0 {
		return s
	}
	pairs := make([]string, 0, 2*len(values))
	for k, v := range values {
		pairs = append(pairs, "{"+k+"}", v)
	}
	return strings.NewReplacer(pairs...).Replace(s)
}

// placeholdersIn returns the {names} in s, in order.
func placeholdersIn(s string) []string {
	var out []string
	for {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			return out
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			return append(out, s[i+1:])
		}
		out = append(out, s[i+1:i+j])
		s = s[i+j+1:]
	}
}

// builtinPrompt returns the built-in prompt, if texts (from builtinTexts)
// has one for the language. Its sound is the recording
// sound:helpline/<lang>/<id>; where the prompt has a placeholder, the
// recording says the words before it and the engine says the value
// (digits:{digit}, number:{position}), so that changing a menu digit
// needs no new recording.
func builtinPrompt(texts map[string]map[PromptID]string, lang string, id PromptID) (Prompt, bool) {
	text, ok := texts[lang][id]
	if !ok {
		return Prompt{}, false
	}
	sound := []string{"sound:helpline/" + lang + "/" + string(id)}
	switch id {
	case PromptMenu, PromptVoicemailOffer:
		sound = append(sound, "digits:{digit}")
	case PromptQueuePosition:
		sound = append(sound, "number:{position}")
	case PromptQueueWait:
		sound = append(sound, "number:{minutes}", "sound:helpline/"+lang+"/minutes")
	}
	if id != PromptQueueWait && wordsAfterLastPlaceholder(text) {
		// "You are number {position} in the queue.": the words after the
		// value are a recording of their own, or callers would not hear
		// them.
		sound = append(sound, "sound:helpline/"+lang+"/"+string(id)+"_end")
	}
	return Prompt{Text: text, Sound: sound}, true
}

// wordsAfterLastPlaceholder reports whether text says something after its
// last {placeholder}.
func wordsAfterLastPlaceholder(text string) bool {
	i := strings.LastIndexByte(text, '}')
	if i < 0 {
		return false
	}
	return strings.IndexFunc(text[i+1:], unicode.IsLetter) >= 0
}

// builtinRejectMessage is what a blacklisted caller hears when
// blacklist.rejection is message. It points to 112 because a caller
// blocked by mistake may be in danger.
func builtinRejectMessage() Prompt {
	return Prompt{
		Text:  "Questo numero al momento non può raggiungere il servizio. In caso di pericolo chiama il 112.",
		Sound: []string{"sound:helpline/it/rejected"},
	}
}

// builtinTexts returns the texts of the seed service's six languages (a
// function, not a package variable, so nobody can change them at run time).
// Sound files recorded from these texts are expected under
// sounds/helpline/<lang>/<id>.
func builtinTexts() map[string]map[PromptID]string {
	return map[string]map[PromptID]string{
		"it": {
			PromptWelcome:           "Grazie per aver chiamato il servizio antiviolenza e antistalking. La chiamata è gratuita e anonima.",
			PromptMenu:              "Per l'italiano, premi {digit}.",
			PromptInvalidChoice:     "Scelta non valida.",
			PromptQueueEnter:        "Tutte le operatrici sono impegnate. Resta in linea: ti risponderemo appena possibile.",
			PromptQueuePosition:     "La tua posizione in coda è {position}.",
			PromptQueueWait:         "L'attesa stimata è di circa {minutes} minuti.",
			PromptVoicemailOffer:    "Se preferisci lasciare un messaggio, premi {digit}.",
			PromptVoicemailRecord:   "Lascia il tuo messaggio dopo il segnale acustico. Riaggancia quando hai finito.",
			PromptVoicemailSaved:    "Il tuo messaggio è stato registrato. Grazie.",
			PromptUnavailable:       "Al momento non possiamo rispondere. Richiama più tardi. In caso di pericolo chiama il 112.",
			PromptOperatorLoggedIn:  "Accesso effettuato.",
			PromptOperatorLoggedOut: "Uscita effettuata.",
			PromptOperatorPaused:    "Sei in pausa.",
			PromptOperatorUnpaused:  "Pausa terminata.",
			PromptOperatorFlagged:   "Segnalazione registrata.",
			PromptOperatorRefused:   "Operazione non riuscita.",
		},
		"en": {
			PromptWelcome:           "Thank you for calling the anti-violence and anti-stalking helpline. This call is free and anonymous.",
			PromptMenu:              "For English, press {digit}.",
			PromptInvalidChoice:     "That is not a valid choice.",
			PromptQueueEnter:        "All our operators are busy. Please stay on the line: we will answer as soon as possible.",
			PromptQueuePosition:     "You are number {position} in the queue.",
			PromptQueueWait:         "The expected wait is about {minutes} minutes.",
			PromptVoicemailOffer:    "If you prefer to leave a message, press {digit}.",
			PromptVoicemailRecord:   "Please leave your message after the tone. Hang up when you have finished.",
			PromptVoicemailSaved:    "Your message has been recorded. Thank you.",
			PromptUnavailable:       "We cannot answer right now. Please call again later. If you are in danger, call 112.",
			PromptOperatorLoggedIn:  "Logged in.",
			PromptOperatorLoggedOut: "Logged out.",
			PromptOperatorPaused:    "Paused.",
			PromptOperatorUnpaused:  "Pause ended.",
			PromptOperatorFlagged:   "Caller flagged.",
			PromptOperatorRefused:   "Request refused.",
		},
		"fr": {
			PromptWelcome:           "Merci d'avoir appelé le service d'écoute contre les violences et le harcèlement. L'appel est gratuit et anonyme.",
			PromptMenu:              "Pour le français, tapez {digit}.",
			PromptInvalidChoice:     "Choix non valide.",
			PromptQueueEnter:        "Toutes nos opératrices sont occupées. Restez en ligne : nous vous répondrons dès que possible.",
			PromptQueuePosition:     "Vous êtes en position {position} dans la file d'attente.",
			PromptQueueWait:         "L'attente estimée est d'environ {minutes} minutes.",
			PromptVoicemailOffer:    "Si vous préférez laisser un message, tapez {digit}.",
			PromptVoicemailRecord:   "Laissez votre message après le bip sonore. Raccrochez lorsque vous avez terminé.",
			PromptVoicemailSaved:    "Votre message a été enregistré. Merci.",
			PromptUnavailable:       "Nous ne pouvons pas répondre pour le moment. Rappelez plus tard. En cas de danger, appelez le 112.",
			PromptOperatorLoggedIn:  "Connexion effectuée.",
			PromptOperatorLoggedOut: "Déconnexion effectuée.",
			PromptOperatorPaused:    "Pause activée.",
			PromptOperatorUnpaused:  "Pause terminée.",
			PromptOperatorFlagged:   "Signalement enregistré.",
			PromptOperatorRefused:   "Opération refusée.",
		},
		"es": {
			PromptWelcome:           "Gracias por llamar al servicio contra la violencia y el acoso. La llamada es gratuita y anónima.",
			PromptMenu:              "Para español, pulse {digit}.",
			PromptInvalidChoice:     "Opción no válida.",
			PromptQueueEnter:        "Todas nuestras operadoras están ocupadas. No cuelgue: le atenderemos lo antes posible.",
			PromptQueuePosition:     "Su posición en la cola es la número {position}.",
			PromptQueueWait:         "El tiempo de espera estimado es de unos {minutes} minutos.",
			PromptVoicemailOffer:    "Si prefiere dejar un mensaje, pulse {digit}.",
			PromptVoicemailRecord:   "Deje su mensaje después de la señal. Cuelgue cuando haya terminado.",
			PromptVoicemailSaved:    "Su mensaje ha sido grabado. Gracias.",
			PromptUnavailable:       "En este momento no podemos atenderle. Vuelva a llamar más tarde. Si está en peligro, llame al 112.",
			PromptOperatorLoggedIn:  "Sesión iniciada.",
			PromptOperatorLoggedOut: "Sesión cerrada.",
			PromptOperatorPaused:    "En pausa.",
			PromptOperatorUnpaused:  "Pausa terminada.",
			PromptOperatorFlagged:   "Llamada señalada.",
			PromptOperatorRefused:   "Operación rechazada.",
		},
		"ar": {
			PromptWelcome:           "شكرًا لاتصالك بخط المساعدة لمناهضة العنف والملاحقة. المكالمة مجانية ومجهولة الهوية.",
			PromptMenu:              "للعربية، اضغط {digit}.",
			PromptInvalidChoice:     "اختيار غير صالح.",
			PromptQueueEnter:        "جميع الموظفات مشغولات حاليًا. يرجى البقاء على الخط، سنرد عليك في أقرب وقت ممكن.",
			PromptQueuePosition:     "ترتيبك في قائمة الانتظار هو {position}.",
			PromptQueueWait:         "مدة الانتظار المتوقعة حوالي {minutes} دقيقة.",
			PromptVoicemailOffer:    "إذا كنت تفضل ترك رسالة، اضغط {digit}.",
			PromptVoicemailRecord:   "يرجى ترك رسالتك بعد سماع الإشارة. أغلق الخط عند الانتهاء.",
			PromptVoicemailSaved:    "تم تسجيل رسالتك. شكرًا.",
			PromptUnavailable:       "لا يمكننا الرد في الوقت الحالي. يرجى معاودة الاتصال لاحقًا. إذا كنت في خطر، اتصل بالرقم 112.",
			PromptOperatorLoggedIn:  "تم تسجيل الدخول.",
			PromptOperatorLoggedOut: "تم تسجيل الخروج.",
			PromptOperatorPaused:    "أنت في استراحة.",
			PromptOperatorUnpaused:  "انتهت الاستراحة.",
			PromptOperatorFlagged:   "تم الإبلاغ عن المتصل.",
			PromptOperatorRefused:   "تعذر تنفيذ الطلب.",
		},
		"de": {
			PromptWelcome:           "Danke für Ihren Anruf beim Hilfetelefon gegen Gewalt und Stalking. Der Anruf ist kostenlos und anonym.",
			PromptMenu:              "Für Deutsch drücken Sie die {digit}.",
			PromptInvalidChoice:     "Ungültige Auswahl.",
			PromptQueueEnter:        "Alle Beraterinnen sind im Gespräch. Bitte bleiben Sie in der Leitung: wir melden uns so bald wie möglich.",
			PromptQueuePosition:     "Sie sind an Position {position} in der Warteschlange.",
			PromptQueueWait:         "Die voraussichtliche Wartezeit beträgt etwa {minutes} Minuten.",
			PromptVoicemailOffer:    "Wenn Sie lieber eine Nachricht hinterlassen möchten, drücken Sie die {digit}.",
			PromptVoicemailRecord:   "Bitte sprechen Sie Ihre Nachricht nach dem Signalton. Legen Sie auf, wenn Sie fertig sind.",
			PromptVoicemailSaved:    "Ihre Nachricht wurde aufgezeichnet. Danke.",
			PromptUnavailable:       "Im Moment können wir nicht antworten. Bitte rufen Sie später wieder an. Wenn Sie in Gefahr sind, rufen Sie die 112.",
			PromptOperatorLoggedIn:  "Angemeldet.",
			PromptOperatorLoggedOut: "Abgemeldet.",
			PromptOperatorPaused:    "Pause.",
			PromptOperatorUnpaused:  "Pause beendet.",
			PromptOperatorFlagged:   "Anruf markiert.",
			PromptOperatorRefused:   "Vorgang abgelehnt.",
		},
	}
}
