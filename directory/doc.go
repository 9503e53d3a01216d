// Package directory is the helpline's map of the anti-violence network
// (the "Mappatura 1522"): anti-violence centres, shelters, police and
// carabinieri, health, legal and social services, by province.
//
// # Why it exists
//
// An operator who has heard a woman out often has to put her in touch
// with someone near her: the anti-violence centre of her province, a
// shelter when she cannot go home, the police when she is in danger now.
// The operator calls the service, or transfers the caller to it, from the
// softphone by dialling a feature code and the service's short code
// (*20 then 1234); every such call gets its own outbound call record, and
// the quarterly report's section A.8 counts them (answered, busy, no
// answer, total duration). This package is where those codes and numbers
// come from: it imports the network's spreadsheet, validates it, keeps it
// in a Store (directory/sqlite beside the call records, directory/memory
// for tests and the demo), and answers the operator's question "whom do I
// call for a caller from Padova, now?" with Suggest: the province's
// services first, then the rest of its region, those open now by their
// hours first, anti-violence centres before other services.
//
// # The file
//
// A CSV with a header row (see Parse and the column constants):
// name, type, province and phone are required; region, municipality,
// address, hours, notes, confidential and code are optional. Italian
// headers (nome, tipo, provincia, comune, telefono, orari, note,
// riservato, codice, …) and ';' separators, as Italian spreadsheets
// export them, are read as well as English ones and ','. The import is
// all or nothing: every problem of every row is reported with its line
// and column, and nothing is stored until the file is clean.
//
// # Codes
//
// Every entry gets a four-digit code, 1000–9999, that operators dial and
// learn by heart, and that outbound call records carry as their target;
// so a code must not move when the spreadsheet is re-imported with a new
// phone number, new hours, rows in another order, or a row added. The
// scheme (assignCodes):
//
//   - a code column, where filled, is authoritative: an administrator can
//     pin or hand out codes, and WriteCSV writes every code so that an
//     exported and edited file keeps them;
//   - otherwise an entry is identified by its key, the folded type,
//     province, municipality and name ("cav|PD|padova|cav padova donne
//     al centro"): a row whose key is already stored keeps that entry's
//     code;
//   - a new key takes a code derived from the key's FNV-1a hash, or the
//     next free one upwards, never one held by a stored entry. So the same
//     file imported into two fresh databases gives the same codes, and a
//     code once given is never handed to another service while the old
//     entry is kept. Renaming a service (a new key) gives it a new code
//     unless the file pins the old one.
//
// Entries missing from a re-imported file are kept (and counted) unless
// the import is told to prune them; their codes stay reserved either way.
// Three digits after a feature code are a province's ISTAT number
// ("028" for Padova), so that an operator can ask the switchboard for a
// province's suggestions from the keypad; ParseDialled tells the three
// shapes apart.
//
// # Confidentiality
//
// A shelter's location is what keeps the women in it safe, so shelters
// are always confidential (a file that says otherwise is refused), and any
// entry can be marked confidential. Entry.Redacted, which every printout
// goes through unless the administrator asks for --confidential, hides a
// confidential entry's address, notes, phone number and municipality. The
// operator still calls it by its code: the switchboard dials the number
// (Entry.Dial), nobody needs to read it. Search matches only what it
// shows, so searching for a street cannot reveal that a shelter is there.
// Service numbers are public, not callers', but this package logs none of
// them all the same.
//
// # Hours
//
// Opening hours are parsed from a small grammar (see Hours) and evaluated
// on the wall clock of the service's time zone, so that DST changes and
// overnight shifts are right. Public holidays are not modelled: on
// Christmas Day a centre is shown as open by its weekday hours.
package directory
