package spool

// AppendFrame and SegmentHeader let the tests build segments by hand,
// including damaged ones.
var AppendFrame = appendFrame

const SegmentHeader = segmentHeader
