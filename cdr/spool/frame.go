package spool

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// segmentHeader opens every segment file; a file that does not start with
// it is not a spool segment (or is from an incompatible version).
const segmentHeader = "helpline-cdr-spool v1\n"

// frameMagic opens every frame. 0xC5 followed by 0xD1 is not valid UTF-8
// (0xC5 wants a continuation byte, 0x80–0xBF), and payloads are JSON, which
// encoding/json always writes as valid UTF-8: so the magic never occurs
// inside a payload, and resynchronising after a corrupt frame cannot land
// in the middle of a good one.
var frameMagic = [4]byte{0xC5, 0xD1, 0x5B, 0x0A}

// frameOverhead is magic + length + CRC.
const frameOverhead = 12

// MaxPayload bounds a frame's payload. A call record is well under 4 KiB;
// the bound keeps a corrupt length from asking for gigabytes.
const MaxPayload = 1 << 20

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Frame decoding errors. errShort means the bytes end inside the frame:
// at the end of a segment that is a torn write, elsewhere corruption.
var (
	errShort    = errors.New("frame cut short")
	errMagic    = errors.New("bad frame magic")
	errLength   = errors.New("frame length out of range")
	errChecksum = errors.New("frame checksum mismatch")
)

// appendFrame appends payload framed as: magic (4 bytes), payload length
// (4 bytes, big-endian), CRC-32C of length and payload (4 bytes,
// big-endian), payload. The checksum covers the length so that a corrupt
// length is caught too.
func appendFrame(dst, payload []byte) []byte {
	var hdr [frameOverhead]byte
	copy(hdr[:4], frameMagic[:])
	binary.BigEndian.PutUint32(hdr[4:8], uint32(len(payload)))
	crc := crc32.Update(0, castagnoli, hdr[4:8])
	crc = crc32.Update(crc, castagnoli, payload)
	binary.BigEndian.PutUint32(hdr[8:12], crc)
	dst = append(dst, hdr[:]...)
	return append(dst, payload...)
}

// decodeFrame decodes the frame at the start of b, returning its payload
// (a sub-slice of b) and the frame's total size.
func decodeFrame(b []byte) (payload []byte, size int, err error) {
	if len(b) < frameOverhead {
		if !bytes.HasPrefix(frameMagic[:], b[:min(len(b), 4)]) {
			return nil, 0, errMagic
		}
		return nil, 0, errShort
	}
	if !bytes.Equal(b[:4], frameMagic[:]) {
		return nil, 0, errMagic
	}
	n := binary.BigEndian.Uint32(b[4:8])
	if n == 0 || n > MaxPayload {
		return nil, 0, fmt.Errorf("%w: %d bytes", errLength, n)
	}
	end := frameOverhead + int(n)
	if len(b) < end {
		return nil, 0, errShort
	}
	crc := crc32.Update(0, castagnoli, b[4:8])
	crc = crc32.Update(crc, castagnoli, b[frameOverhead:end])
	if crc != binary.BigEndian.Uint32(b[8:12]) {
		return nil, 0, errChecksum
	}
	return b[frameOverhead:end], end, nil
}

// Frame is one intact frame of a segment.
type Frame struct {
	// Offset is where the frame starts in the segment file.
	Offset int64
	// Payload is the framed bytes (a sub-slice of the decoded data).
	Payload []byte
}

// Problem is a stretch of a segment that is not an intact frame.
type Problem struct {
	// Offset is where the bad stretch starts in the segment file.
	Offset int64
	// Length is how many bytes were skipped.
	Length int64
	// Torn is true when no intact frame follows: the tail of a write that
	// a crash interrupted. Such a frame was never acknowledged (Write
	// returns only after fsync), so ignoring it loses nothing. A problem
	// that is not Torn is corruption in the middle of the file: the frame
	// there is lost, the frames after it are not.
	Torn bool
	// Err says what was wrong.
	Err error
}

func (p Problem) String() string {
	kind := "corrupt frame"
	if p.Torn {
		kind = "torn tail"
	}
	return fmt.Sprintf("%s at offset %d (%d bytes skipped): %v", kind, p.Offset, p.Length, p.Err)
}

// DecodeSegment splits the contents of a segment file into its intact
// frames and the problems found between them. It never fails and never
// panics: a missing or wrong header is a problem at offset 0 (and nothing
// after it is trusted); a bad frame is skipped by searching for the next
// magic that starts an intact frame.
func DecodeSegment(data []byte) (frames []Frame, problems []Problem) {
	if len(data) < len(segmentHeader) {
		if !bytes.HasPrefix([]byte(segmentHeader), data) {
			return nil, []Problem{{Length: int64(len(data)), Err: errors.New("not a spool segment (bad header)")}}
		}
		if len(data) > 0 {
			problems = append(problems, Problem{Length: int64(len(data)), Torn: true, Err: errors.New("header cut short")})
		}
		return nil, problems
	}
	if string(data[:len(segmentHeader)]) != segmentHeader {
		return nil, []Problem{{Length: int64(len(data)), Err: errors.New("not a spool segment (bad header)")}}
	}
	off := len(segmentHeader)
	for off < len(data) {
		payload, size, err := decodeFrame(data[off:])
		if err == nil {
			frames = append(frames, Frame{Offset: int64(off), Payload: payload})
			off += size
			continue
		}
		next := resync(data, off+1)
		if next < 0 {
			problems = append(problems, Problem{Offset: int64(off), Length: int64(len(data) - off), Torn: true, Err: err})
			break
		}
		problems = append(problems, Problem{Offset: int64(off), Length: int64(next - off), Err: err})
		off = next
	}
	return frames, problems
}

// resync returns the offset, from start on, of the next magic that begins
// an intact frame, or -1.
func resync(data []byte, start int) int {
	for start < len(data) {
		i := bytes.Index(data[start:], frameMagic[:])
		if i < 0 {
			return -1
		}
		at := start + i
		if _, _, err := decodeFrame(data[at:]); err == nil {
			return at
		}
		start = at + 1
	}
	return -1
}
