// Package report computes the telephony part of the helpline's quarterly
// report (seed 000, sections A.1–A.4 and A.8) from call records, and
// renders it as text, JSON, CSV or a self-contained HTML page.
//
// The published report is read by ministries, the press and the
// statistics office; its figures are compared quarter after quarter. So
// the package aims at figures that are exact, reproducible and explained,
// not merely plausible: every call is counted once, in one outcome; what
// is left out is counted too (Result.Skipped); and every definition is
// written down here and in package metric, which the supervisor's live
// view shares so that the wall screen and the report never disagree.
//
// # Shape
//
// The computation does not know where records come from. An Accumulator
// takes records one at a time (Add) in any order and holds only counters
// and the waits of answered calls; Build runs it over an iter.Seq, and
// FromStore feeds it from a cdr store's Scan (any Source: SQLite, the
// in-memory store, later PostgreSQL) and adds the comparison with the
// previous period. Renderers only format a Result.
//
// # Definitions
//
//   - Period: local calendar days [From, To) in a time zone (default
//     Europe/Rome). A call belongs to the period of its arrival.
//   - Inbound total = queued + blacklisted + welcome hang-ups; queued =
//     answered + unanswered + voicemail + abandoned (the outcomes of
//     package cdr; each call has exactly one). Shares have one decimal and
//     add up to exactly 100.0 by largest-remainder rounding
//     (LargestRemainder), as the published report does: 53,3 / 28,9 / 17,8
//     although 9.987 / 34.620 is 28,85 %.
//   - Talk time: from the bridge with the operator to hang-up, answered
//     inbound calls (metric.Talk). Average talk time = total talk time ÷
//     answered calls.
//   - Wait: from queue entry to the bridge with the operator, answered
//     calls only (metric.Wait); the average is over those calls.
//   - Weekday × hour: ALL inbound calls (every outcome) by the local
//     weekday and hour of arrival. Across DST changes the local clock
//     rules: the last Sunday of March has no calls at 2:00, the last
//     Sunday of October counts two hours' worth of calls at 2:00.
//   - Outbound: operators' calls to the network by outcome (answered,
//     busy, no answer, failed); answered share = answered ÷ total, one
//     decimal rounded half up; talk time of the answered ones.
//   - Change against the previous period of the same length
//     (Period.Previous: the same number of whole months when the period
//     is month-aligned, else of days), computed when the store holds data
//     for the whole previous period, else "n/d".
//   - Service indicators (beyond the published tables), per language:
//     offered (= queued), outcomes, mean and 90th-percentile wait, share
//     of offered calls answered within 20 s and 60 s; per operator:
//     answered calls, talk time, outbound calls. Hours logged in await
//     operator log-in events (the LoginHours seam; "n/d" until then).
//
// # Known difference with the published report
//
// The seed report gives an average talk time of 05m 53s next to a total
// of 1.594h 18m 30s over 15.911 answered calls; that total divided by
// those calls is 6m 01s (360,7 s). We cannot reproduce 05m 53s from its
// own figures (it may average a different set of calls, or per-operator
// averages), so we print total ÷ answered and say so in a footnote
// under the table. Every other telephony figure of sections A.1–A.4 and
// A.8 is reproduced exactly from the seed quarter's records (see
// testdata/seed-quarter.it.txt and TestSeedQuarterFigures).
//
// # Output formats
//
//   - WriteText: aligned tables for a terminal, Italian labels and number
//     format (34.620, 86,2%) by default, English on request; numbers are
//     formatted with golang.org/x/text/message.
//   - WriteJSON: a stable, versioned shape (JSONVersion), documented on
//     jsonReport; unknown figures are null.
//   - WriteCSV: one file per table (CSVFiles), for import by the
//     statistics office: plain numbers (no grouping, decimal point),
//     seconds for durations, stable English keys in the first column and
//     a label column in the report's language. One file per table rather
//     than one stream because the tables have different columns, and a
//     spreadsheet opens each as a sheet without a filter.
//   - WriteHTML: one self-contained page (inline CSS and SVG, no scripts or
//     external assets) with the pie chart of queued calls and the weekday ×
//     hour heat map; it prints on A4.
package report
