package btf

import (
	"strconv"
	"unicode/utf8"
)

// jsonWriter writes JSON with the layout of bpftool's json_writer: compact
// with no blanks, or pretty with 4-space indentation, `"name": value`, and
// objects in arrays joined as `},{`. It appends to buf; the caller drains
// it. Unlike json_writer it escapes every control character, so the
// output is always valid JSON.
type jsonWriter struct {
	buf    []byte
	pretty bool
	depth  int
	sep    byte // ',' after a value, 0 at the start of a container
}

func (j *jsonWriter) eor() {
	if j.sep != 0 {
		j.buf = append(j.buf, j.sep)
	}
	j.sep = ','
}

func (j *jsonWriter) eol() {
	if !j.pretty {
		return
	}
	j.buf = append(j.buf, '\n')
	for i := 0; i < j.depth; i++ {
		j.buf = append(j.buf, "    "...)
	}
}

func (j *jsonWriter) begin(c byte) {
	j.eor()
	j.buf = append(j.buf, c)
	j.depth++
	j.sep = 0
}

func (j *jsonWriter) end(c byte) {
	j.depth--
	if j.sep != 0 {
		j.eol()
	}
	j.buf = append(j.buf, c)
	j.sep = ','
}

func (j *jsonWriter) beginObject() { j.begin('{') }
func (j *jsonWriter) endObject()   { j.end('}') }
func (j *jsonWriter) beginArray()  { j.begin('[') }
func (j *jsonWriter) endArray()    { j.end(']') }

func (j *jsonWriter) name(n string) {
	j.eor()
	j.eol()
	j.sep = 0
	j.buf = appendJSONString(j.buf, n)
	j.buf = append(j.buf, ':')
	if j.pretty {
		j.buf = append(j.buf, ' ')
	}
}

func (j *jsonWriter) uintField(n string, v uint64) {
	j.name(n)
	j.eor()
	j.buf = strconv.AppendUint(j.buf, v, 10)
}

func (j *jsonWriter) intField(n string, v int64) {
	j.name(n)
	j.eor()
	j.buf = strconv.AppendInt(j.buf, v, 10)
}

func (j *jsonWriter) stringField(n, v string) {
	j.name(n)
	j.eor()
	j.buf = appendJSONString(j.buf, v)
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s quoted, escaping what JSON requires. Bytes
// that are not UTF-8 become U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			b = append(b, c)
			i++
			continue
		}
		switch c {
		case '"':
			b = append(b, '\\', '"')
		case '\\':
			b = append(b, '\\', '\\')
		case '\n':
			b = append(b, '\\', 'n')
		case '\t':
			b = append(b, '\\', 't')
		case '\r':
			b = append(b, '\\', 'r')
		case '\b':
			b = append(b, '\\', 'b')
		case '\f':
			b = append(b, '\\', 'f')
		default:
			if c < 0x20 {
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
				break
			}
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, "\\ufffd"...)
			} else {
				b = append(b, s[i:i+size]...)
			}
			i += size
			continue
		}
		i++
	}
	return append(b, '"')
}
