package safe

import (
	"encoding/json"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"

	"sigs.k8s.io/yaml"
)

// JSON makes encoded JSON printable without changing what it decodes to.
// encoding/json escapes the C0 controls, U+2028 and U+2029, but writes
// DEL, the C1 controls (U+009B is a CSI to a terminal that reads C1 in
// UTF-8) and the bidirectional and other format characters as they are;
// JSON writes each of them as a \uXXXX escape instead (a surrogate pair
// above U+FFFF). Outside its strings JSON is ASCII structure, so every
// such character is inside a string, where the escape is the same
// character; an invalid byte, which encoding/json never writes, becomes
// \ufffd, as a decoder would read it. JSON with nothing to escape is
// returned as it is.
func JSON(b []byte) []byte { return escapeJSON(b, false) }

// escapeJSON is JSON; for YAML's parser (which reads JSON, but not a
// surrogate pair) a character above U+FFFF is \UXXXXXXXX instead.
func escapeJSON(b []byte, forYAML bool) []byte {
	i := firstUnprintable(b)
	if i < 0 {
		return b
	}
	out := make([]byte, 0, len(b)+32)
	out = append(out, b[:i]...)
	for i < len(b) {
		c := b[i]
		if c < utf8.RuneSelf && c != 0x7f {
			out = append(out, c)
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			out = append(out, `\ufffd`...)
		case jsonEscapes(r):
			if r > 0xffff && forYAML {
				out = fmt.Appendf(out, `\U%08x`, r)
			} else if r > 0xffff {
				r1, r2 := utf16.EncodeRune(r)
				out = fmt.Appendf(out, `\u%04x\u%04x`, r1, r2)
			} else {
				out = fmt.Appendf(out, `\u%04x`, r)
			}
		default:
			out = append(out, b[i:i+size]...)
		}
		i += size
	}
	return out
}

// jsonEscapes are the characters JSON escapes beyond encoding/json's: DEL,
// C1, what Terminal shows escaped as hidden, and the noncharacters U+FFFE
// and U+FFFF, which YAML's parser refuses as they are ("control
// characters are not allowed") and reads escaped (the fuzzer found U+FFFF).
func jsonEscapes(r rune) bool {
	return r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0xfffe || r == 0xffff || hidden(r)
}

// firstUnprintable is the offset of the first byte JSON rewrites, or -1:
// the fast path, for documents of ASCII names.
func firstUnprintable(b []byte) int {
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c == 0x7f {
			return i
		}
		if c < utf8.RuneSelf {
			continue
		}
		for j := i; j < len(b); {
			r, size := utf8.DecodeRune(b[j:])
			if (r == utf8.RuneError && size == 1) || jsonEscapes(r) {
				return j
			}
			j += size
		}
		return -1
	}
	return -1
}

// JSONToYAML converts encoded JSON to YAML as sigs.k8s.io/yaml does, over
// JSON(b): its YAML parser refuses a document whose strings hold DEL or C1
// controls as they are ("control characters are not allowed") and reads
// U+0085 as a line break, folding it into a space, while the escapes it
// reads as the characters themselves, which its emitter then escapes in
// turn (\x7F, \x9B, \N). The YAML holds no control character; it does
// hold the bidirectional and format characters as they are, which YAML
// counts as printable and has no way to make its emitter escape.
func JSONToYAML(b []byte) ([]byte, error) { return yaml.JSONToYAML(escapeJSON(b, true)) }

// YAML marshals v as sigs.k8s.io/yaml's Marshal does (its JSON encoding,
// converted), through JSONToYAML: every name in the document, whatever it
// holds, is written and read back whole.
func YAML(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("error marshaling into JSON: %w", err)
	}
	return JSONToYAML(b)
}
