package directory

import (
	"slices"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// fold reduces s to what people mean when they compare names: lower case,
// accents removed ("Forlì" = "forli"), and every run of punctuation or
// space turned into one space ("Reggio nell'Emilia" = "reggio nell emilia").
// Searching and the code scheme both compare folded strings, so a re-typed
// spreadsheet keeps its codes.
func fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			// a combining accent: drop it, keep the letter before
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(unicode.ToLower(r))
		default:
			space = true
		}
	}
	return b.String()
}

// foldTight is fold without the spaces: "Emilia Romagna" = "emilia-romagna".
func foldTight(s string) string { return strings.ReplaceAll(fold(s), " ", "") }

func sortStrings(s []string) { slices.Sort(s) }
