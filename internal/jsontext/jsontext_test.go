package jsontext

import (
	"encoding/json"
	"testing"
)

// Each helper gives exactly what encoding/json gives, for text that is
// plain and text that is anything but (HTML characters, controls, bidi,
// invalid UTF-8, U+2028).
func TestAsEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain text", "a<b>&c", "quote \" and \\", "\x1b[2J\r\n\x00\x7f", "\u202e\u2028\u2029é漢",
		"bad \xff\xfe utf-8", "\u009b2J\u0085"} {
		want, _ := json.Marshal(s)
		if got := AppendString([]byte("x"), s); string(got) != "x"+string(want) {
			t.Errorf("AppendString(%q) = %s, want %s", s, got[1:], want)
		}
	}
	for _, l := range [][]int{nil, {}, {0}, {3, 14, 159265, -2}} {
		want, _ := json.Marshal(l)
		if got := AppendInts(nil, l); string(got) != string(want) {
			t.Errorf("AppendInts(%v) = %s, want %s", l, got, want)
		}
	}
	for _, v := range []bool{true, false} {
		want, _ := json.Marshal(v)
		if got := AppendBool(nil, v); string(got) != string(want) {
			t.Errorf("AppendBool(%v) = %s, want %s", v, got, want)
		}
	}
}
