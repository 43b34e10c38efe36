// Package jsontext appends JSON text exactly as encoding/json writes it,
// for the types the tool writes by hand: the items of its documents' big
// lists (paths, objects, findings), of which an answer holds tens of
// thousands and encoding/json's reflection, and its compaction of every
// MarshalJSON's output, were most of the time to write them.
package jsontext

import (
	"encoding/json"
	"strconv"
)

// Appender is a value whose JSON, byte for byte what json.Marshal gives
// for it, is appended to b. internal/document writes a streamed list of
// Appenders without encoding/json.
type Appender interface {
	AppendJSON(b []byte) ([]byte, error)
}

// AppendString appends s as encoding/json writes a string: plain
// printable ASCII is quoted as is, anything else (escapes, HTML
// characters, non-ASCII, invalid UTF-8) goes through encoding/json itself.
func AppendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// AppendInts appends a list of ints as encoding/json writes a []int (nil
// is null).
func AppendInts(b []byte, l []int) []byte {
	if l == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, n := range l {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(n), 10)
	}
	return append(b, ']')
}

// AppendBool appends true or false.
func AppendBool(b []byte, v bool) []byte {
	if v {
		return append(b, "true"...)
	}
	return append(b, "false"...)
}
