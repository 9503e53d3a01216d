package directory

import (
	"fmt"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// maxPhoneLen bounds what is handed to the phone-number parser.
const maxPhoneLen = 40

// ParsePhone checks that s is a number the switchboard can dial from Italy
// and returns the digits to dial (see Entry.Dial): an Italian number in
// national form ("049 555 0101" → "0495550101"), an Italian short number
// as it is ("112", "1522"), and a foreign number as "00" and its
// international digits. s is a service's public number, never a caller's.
func ParsePhone(s string) (dial string, err error) {
	s = strings.TrimSpace(s)
	bad := fmt.Errorf("%q is not a phone number", s)
	if s == "" {
		return "", fmt.Errorf("missing phone number")
	}
	if len(s) > maxPhoneLen {
		return "", bad
	}
	num, err := phonenumbers.Parse(s, "IT")
	if err != nil {
		return "", bad
	}
	if num.GetExtension() != "" {
		return "", fmt.Errorf("%q has an extension, which the switchboard cannot dial: put it in the notes", s)
	}
	region := phonenumbers.GetRegionCodeForNumber(num)
	switch {
	case num.GetCountryCode() == 39 && phonenumbers.IsValidShortNumberForRegion(num, "IT"):
		return phonenumbers.GetNationalSignificantNumber(num), nil
	case !phonenumbers.IsValidNumber(num):
		return "", bad
	case region == "IT" || region == "VA" || region == "SM":
		// Vatican and San Marino numbers in the +39 plan are dialled as
		// Italian ones.
		if num.GetCountryCode() == 39 {
			return digitsOnly(phonenumbers.Format(num, phonenumbers.NATIONAL)), nil
		}
	}
	return "00" + digitsOnly(phonenumbers.Format(num, phonenumbers.E164)), nil
}

func digitsOnly(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}
