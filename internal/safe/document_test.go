package safe

import (
	"bytes"
	"encoding/json"
	"testing"
	"unicode"
	"unicode/utf8"

	"sigs.k8s.io/yaml"
)

// documentUnsafe is what a terminal acts on in a document: C0 controls but
// newline and tab, DEL, C1 controls, invalid UTF-8 and, when format is
// set, the format characters and separators.
func documentUnsafe(b []byte, format bool) (rune, bool) {
	if !utf8.Valid(b) {
		return utf8.RuneError, true
	}
	for _, r := range string(b) {
		if r == '\n' || r == '\t' {
			continue
		}
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || (format && (unicode.Is(unicode.Cf, r) || r == 0x2028 || r == 0x2029)) {
			return r, true
		}
	}
	return 0, false
}

func TestJSON(t *testing.T) {
	for in, want := range map[string]string{
		`{"a":"plain"}`:              `{"a":"plain"}`,
		`{"a":"café 名前"}`:            `{"a":"café 名前"}`,
		"{\"a\":\"x\x7fy\"}":         `{"a":"x\u007fy"}`,
		"{\"a\":\"\u009b2J\u0085\"}": `{"a":"\u009b2J\u0085"}`,
		"{\"a\":\"\\\\\u202e\"}":     `{"a":"\\\u202e"}`,
		"{\"a\":\"\U000e0041\"}":     `{"a":"\udb40\udc41"}`, // a tag character: "ASCII smuggling"
		"{\"a\":\"\xff\"}":           `{"a":"\ufffd"}`,
	} {
		if got := string(JSON([]byte(in))); got != want {
			t.Errorf("JSON(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestYAMLRoundTrips: a document whose strings hold DEL, C1 controls and
// NEL converts to YAML (sigs.k8s.io/yaml alone refuses it, or folds NEL
// into a space) and reads back whole.
func TestYAMLRoundTrips(t *testing.T) {
	in := map[string]string{"name": "x\x1b[2J\u009b2J\u0085\x7f\u202e\r\n; $(touch y)"}
	if _, err := yaml.Marshal(in); err == nil {
		t.Log("sigs.k8s.io/yaml now marshals control characters itself")
	}
	b, err := YAML(in)
	if err != nil {
		t.Fatal(err)
	}
	if r, bad := documentUnsafe(b, false); bad {
		t.Errorf("YAML holds %U:\n%q", r, b)
	}
	var back map[string]string
	if err := yaml.Unmarshal(b, &back); err != nil || back["name"] != in["name"] {
		t.Errorf("YAML reads back %q, %v; want %q", back["name"], err, in["name"])
	}
}

// FuzzJSON: JSON decodes to what encoding/json encoded, holds nothing a
// terminal acts on, and changes nothing in a document that holds nothing
// to escape; JSONToYAML's YAML reads back whole.
func FuzzJSON(f *testing.F) {
	for _, s := range []string{"", "plain", "\x1b]0;t\x07", "a\r\nb", "\u202e\u2066", "\u009b\u0085\x7f", "\xff\xfe", "名前\u2028x", "\U000e0041"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		enc, _ := json.Marshal(map[string]string{"k": s})
		out := JSON(enc)
		if r, bad := documentUnsafe(out, true); bad {
			t.Fatalf("JSON(%q) = %q keeps %U", enc, out, r)
		}
		var want, got map[string]string
		_ = json.Unmarshal(enc, &want)
		if err := json.Unmarshal(out, &got); err != nil || got["k"] != want["k"] {
			t.Fatalf("JSON(%q) = %q decodes to %q, %v; want %q", enc, out, got["k"], err, want["k"])
		}
		if firstUnprintable(enc) < 0 && !bytes.Equal(out, enc) {
			t.Fatalf("JSON(%q) = %q changed a document with nothing to escape", enc, out)
		}
		y, err := JSONToYAML(enc)
		if err != nil {
			t.Fatalf("JSONToYAML(%q): %v", enc, err)
		}
		if r, bad := documentUnsafe(y, false); bad {
			t.Fatalf("JSONToYAML(%q) = %q keeps %U", enc, y, r)
		}
		var back map[string]string
		if err := yaml.Unmarshal(y, &back); err != nil || back["k"] != want["k"] {
			t.Fatalf("JSONToYAML(%q) = %q reads back %q, %v; want %q", enc, y, back["k"], err, want["k"])
		}
	})
}

// BenchmarkJSONNothingToEscape is the cost safe.JSON adds to a document
// of ASCII names (the common case): one scan, no copy.
func BenchmarkJSONNothingToEscape(b *testing.B) {
	doc := bytes.Repeat([]byte(`{"kind":"User","name":"alice@contoso.com","namespace":"payments"},`), 1<<17) // 8 MiB
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		JSON(doc)
	}
}
