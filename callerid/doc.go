// Package callerid turns the caller number the network hands us into the
// only form helpline ever keeps: a keyed HMAC of its E.164 normalisation.
//
// Callers of a helpline for victims of violence are promised anonymity, so
// a raw number must never reach Redis, the CDR store or a log line. Every
// component that needs to recognise a caller again (the blacklist, abuse
// flags, CDRs, report imports) asks a Hasher for the caller's Identity and
// keeps Identity.Hash. Normalising first makes "+39 333 123 4567",
// "0039333…" and "333…" (dialled in Italy) one caller, so a block cannot be
// dodged by the network's choice of format.
//
// Withheld and anonymous callers are recognised here, once, so that no
// component can blacklist or flag them: their Identity has Withheld set and
// an empty Hash.
package callerid
