package demo

import "time"

// Profile is an arrival rate for every hour of the week, in calls per
// hour: Profile[day][hour] with day 0 = Monday … 6 = Sunday and the hour
// of the service's local clock, as the report's weekday × hour table.
type Profile [7][24]float64

// Rate is the arrival rate (calls per hour) at t, read on loc's clock.
func (p *Profile) Rate(t time.Time, loc *time.Location) float64 {
	l := t.In(loc)
	return p[weekdayIndex(l.Weekday())][l.Hour()]
}

// Mean is the average rate over the week, in calls per hour.
func (p *Profile) Mean() float64 {
	var sum float64
	for d := range p {
		for h := range p[d] {
			sum += p[d][h]
		}
	}
	return sum / (7 * 24)
}

// weekdayIndex maps time.Weekday (Sunday = 0) to the report's column
// order (Monday = 0).
func weekdayIndex(d time.Weekday) int { return (int(d) + 6) % 7 }

// seedMatrix is table A.4 of the seed report (calls of summer 2025 by
// hour, rows 0:00…23:00, and weekday, columns Lun…Dom); its total is
// 34.620, as shared/data/quarter-2025-summer.expected.json.
var seedMatrix = [24][7]int{
	{173, 117, 163, 114, 226, 146, 150},
	{124, 68, 82, 102, 73, 109, 116},
	{123, 85, 50, 79, 65, 59, 115},
	{94, 66, 68, 76, 50, 68, 75},
	{52, 31, 83, 45, 45, 46, 54},
	{26, 39, 31, 37, 39, 36, 70},
	{63, 41, 68, 43, 52, 49, 48},
	{94, 121, 88, 78, 81, 83, 80},
	{179, 176, 209, 200, 167, 149, 133},
	{278, 260, 230, 229, 258, 240, 201},
	{378, 354, 347, 300, 334, 276, 330},
	{377, 354, 292, 313, 264, 269, 253},
	{290, 379, 279, 266, 273, 294, 332},
	{300, 320, 271, 210, 296, 232, 238},
	{311, 288, 260, 294, 288, 292, 274},
	{356, 330, 289, 316, 325, 355, 273},
	{328, 283, 250, 330, 308, 311, 270},
	{358, 366, 328, 283, 302, 292, 311},
	{325, 339, 289, 300, 304, 292, 319},
	{292, 266, 265, 346, 267, 278, 298},
	{217, 348, 295, 175, 277, 192, 250},
	{236, 241, 225, 222, 242, 194, 276},
	{196, 163, 205, 177, 262, 208, 198},
	{159, 218, 158, 186, 221, 188, 151},
}

// seedDays is how many of each weekday the seed's quarter had (1 June –
// 31 August 2025: 92 days from a Sunday to a Sunday, so 14 Sundays and 13
// of every other day).
var seedDays = [7]float64{13, 13, 13, 13, 13, 13, 14}

// SeedProfile is the arrival profile of the seed report: each cell of its
// weekday × hour table divided by the number of such weekdays in its
// quarter. A Monday at 10:00 gets 378/13 ≈ 29 calls an hour, a Tuesday
// at 4:00 about 2.4; the mean is 15.7 calls an hour (34.620 calls in 92
// days).
func SeedProfile() Profile {
	var p Profile
	for h, row := range seedMatrix {
		for d, n := range row {
			p[d][h] = float64(n) / seedDays[d]
		}
	}
	return p
}
