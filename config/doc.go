// Package config reads the one YAML file an administrator writes, and
// refuses it, whole, if anything in it is wrong.
//
// A helpline cannot afford a switchboard that starts with a typo in its
// opening hours or a secret pasted into a committed file, and an
// administrator under pressure cannot afford one error per restart. So
// Parse walks the YAML node tree by hand (not struct tags) to report
// every problem at once as Errors, each with file, line and key path:
//
//	helpline.yaml:14: languages.fr.hours[0].from: "25:00" is not a time of day
//
// It refuses unknown keys at any depth, wrong types, impossible values,
// references that do not resolve (an operator's language, a menu
// language nobody answers in, duplicate menu digits, ids or endpoints),
// and any secret written in clear. Secrets are only named (an environment
// variable or a file) and resolved separately by Config.Secrets, whose
// result never prints its values.
//
// The reference for every key, with its default, is example.yaml (printed
// by `helpline config example`); defaults live in code, in defaults().
//
// # Opening hours
//
// A language is offered when the wall clock of the service time zone
// (timezone, default Europe/Rome) shows a listed day and a time in
// [from, to): from is inclusive, to is exclusive. With English open
// Monday–Friday 08:00–20:00, a call at 19:59:59 on a Tuesday is offered
// English and a call at 20:00:00 is not. "24:00" ends a window at
// midnight; a window never crosses midnight. Reading the wall clock makes
// DST days right without special cases: on the spring-forward night the
// skipped hour is simply never shown, and on the fall-back night a window
// covering 02:00–03:00 is open during both passes of that hour.
// Config.OpenLanguages returns the open languages in menu order (by digit,
// 1 to 9 then 0).
//
// # Relative paths
//
// Relative paths in the file (cdr.path, cdr.spool_dir, ivr.recordings_dir,
// *_file secrets) are resolved against the directory holding the file, so
// a configuration and its secret files can move together.
package config
