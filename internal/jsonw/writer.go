package jsonw

import (
	"bufio"
	"strconv"
	"unicode/utf8"
)

// Writer is a streaming JSON writer that lays out its output exactly as
// bpftool's json_writer does: compact by default, or "pretty" with 4-space
// indentation where objects break lines and arrays of scalars do not
// ("[1,2,3\n    ]"). Map dumps and event records go through it so that
// `-j`, `-p` and BTF-typed plain dumps are byte-identical to bpftool's.
//
// Unlike bpftool, every string goes through proper JSON escaping, so the
// output is always valid JSON.
type Writer struct {
	w      *bufio.Writer
	pretty bool
	depth  int
	sep    byte
	scr    []byte
}

// New returns a writer that emits to w. The caller flushes w.
func New(w *bufio.Writer, pretty bool) *Writer {
	return &Writer{w: w, pretty: pretty}
}

// Pretty reports whether the writer indents its output.
func (j *Writer) Pretty() bool { return j.pretty }

// Depth is the current nesting depth; zero once every container is closed.
func (j *Writer) Depth() int { return j.depth }

func (j *Writer) eol() {
	if !j.pretty {
		return
	}
	j.w.WriteByte('\n')
	for i := 0; i < j.depth; i++ {
		j.w.WriteString("    ")
	}
}

func (j *Writer) eor() {
	if j.sep != 0 {
		j.w.WriteByte(j.sep)
	}
	j.sep = ','
}

func (j *Writer) begin(c byte) {
	j.eor()
	j.w.WriteByte(c)
	j.depth++
	j.sep = 0
}

func (j *Writer) end(c byte) {
	if j.depth > 0 {
		j.depth--
	}
	if j.sep != 0 {
		j.eol()
	}
	j.w.WriteByte(c)
	j.sep = ','
}

// StartObject opens "{".
func (j *Writer) StartObject() { j.begin('{') }

// EndObject closes "}".
func (j *Writer) EndObject() { j.end('}') }

// StartArray opens "[".
func (j *Writer) StartArray() { j.begin('[') }

// EndArray closes "]".
func (j *Writer) EndArray() { j.end(']') }

// Name writes an object member name followed by ":" (": " when pretty).
func (j *Writer) Name(name string) {
	j.eor()
	j.eol()
	j.sep = 0
	j.quote(name)
	j.w.WriteByte(':')
	if j.pretty {
		j.w.WriteByte(' ')
	}
}

// Raw writes a preformatted value (a number, true, null or a quoted string
// the caller built) as the next element.
func (j *Writer) Raw(s string) {
	j.eor()
	j.w.WriteString(s)
}

// RawBytes is Raw for a byte slice.
func (j *Writer) RawBytes(b []byte) {
	j.eor()
	j.w.Write(b)
}

// String writes an escaped JSON string.
func (j *Writer) String(s string) {
	j.eor()
	j.quote(s)
}

// Uint writes an unsigned number.
func (j *Writer) Uint(v uint64) {
	j.eor()
	j.scr = strconv.AppendUint(j.scr[:0], v, 10)
	j.w.Write(j.scr)
}

// Int writes a signed number.
func (j *Writer) Int(v int64) {
	j.eor()
	j.scr = strconv.AppendInt(j.scr[:0], v, 10)
	j.w.Write(j.scr)
}

// Bool writes true or false.
func (j *Writer) Bool(v bool) {
	if v {
		j.Raw("true")
	} else {
		j.Raw("false")
	}
}

// Null writes null.
func (j *Writer) Null() { j.Raw("null") }

// HexBytes writes bpftool's byte array: ["0x01","0x02",...].
func (j *Writer) HexBytes(b []byte) {
	j.bytes(b, func(buf []byte, c byte) []byte {
		return append(buf, '"', '0', 'x', hexDigits[c>>4], hexDigits[c&15], '"')
	})
}

// IntBytes writes a byte array as decimal numbers, as bpftool's event_pipe
// does for sample data.
func (j *Writer) IntBytes(b []byte) {
	j.bytes(b, func(buf []byte, c byte) []byte { return strconv.AppendUint(buf, uint64(c), 10) })
}

// bytes writes an array of one element per byte of b, each appended by
// elem, in one write.
func (j *Writer) bytes(b []byte, elem func([]byte, byte) []byte) {
	j.StartArray()
	buf := j.scr[:0]
	for i, c := range b {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = elem(buf, c)
	}
	j.w.Write(buf)
	j.scr = buf
	if len(b) > 0 {
		j.sep = ','
	}
	j.EndArray()
}

const hexDigits = "0123456789abcdef"

func (j *Writer) quote(s string) {
	j.w.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			j.w.WriteString(`\"`)
		case '\\':
			j.w.WriteString(`\\`)
		case '\n':
			j.w.WriteString(`\n`)
		case '\r':
			j.w.WriteString(`\r`)
		case '\t':
			j.w.WriteString(`\t`)
		case '\f':
			j.w.WriteString(`\f`)
		case '\b':
			j.w.WriteString(`\b`)
		default:
			switch {
			case c < 0x20:
				j.escapeByte(c)
			case c < utf8.RuneSelf:
				j.w.WriteByte(c)
			default:
				// A valid UTF-8 sequence is copied; a byte that starts
				// none (BTF names and strings are bytes, not UTF-8) is
				// written as the code point of its value, so the output
				// stays valid JSON and the byte can be read back.
				// bpftool's json_writer copies it, making invalid JSON.
				r, size := utf8.DecodeRuneInString(s[i:])
				if r == utf8.RuneError && size == 1 {
					j.escapeByte(c)
					continue
				}
				j.w.WriteString(s[i : i+size])
				i += size - 1
			}
		}
	}
	j.w.WriteByte('"')
}

// escapeByte writes c as a \u00XX escape.
func (j *Writer) escapeByte(c byte) {
	j.w.WriteString(`\u00`)
	j.w.WriteByte(hexDigits[c>>4])
	j.w.WriteByte(hexDigits[c&15])
}
