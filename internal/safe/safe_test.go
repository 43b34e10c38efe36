package safe

import (
	"os/exec"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestTerminal(t *testing.T) {
	for in, want := range map[string]string{
		"plain-name":               "plain-name",
		"café ü 名前":                "café ü 名前",
		"C:\\Users\\kube":          "C:\\Users\\kube",
		"a\nb":                     `a\nb`,
		"\x1b]0;TITLE\x07":         `\x1b]0;TITLE\x07`,
		"\x1b[31mred\x1b[0m":       `\x1b[31mred\x1b[0m`,
		"eve\r\nFAKE":              `eve\r\nFAKE`,
		"bidi\u202eevil\u202c":     `bidi\u202eevil\u202c`,
		"zero\u200bwidth":          `zero\u200bwidth`,
		"c1\u009b31m":              `c1\u009b31m`,
		string([]byte{0xff, 'x'}):  `\xffx`,
		"tab\there":                `tab\there`,
		"$(touch x) `y` 'z' \"w\"": "$(touch x) `y` 'z' \"w\"",
	} {
		if got := Terminal(in); got != want {
			t.Errorf("Terminal(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestError(t *testing.T) {
	err := Hint(errorString("bad name \x1b]0;x\x07\nFAKE"), "do this")
	if got := Error(err); got != "bad name \\x1b]0;x\\x07\\nFAKE\n(do this)" {
		t.Errorf("Error = %q", got)
	}
}

type errorString string

func (e errorString) Error() string { return string(e) }

// FuzzTerminal: nothing Terminal returns is acted on by a terminal, and
// text with nothing to escape passes unchanged.
func FuzzTerminal(f *testing.F) {
	for _, s := range []string{"", "plain", "\x1b]0;t\x07", "a\r\nb", "\u202e", "\xff\xfe", "名前\u2028x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Terminal(s)
		if !utf8.ValidString(out) {
			t.Fatalf("Terminal(%q) = %q: not valid UTF-8", s, out)
		}
		for _, r := range out {
			if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || unicode.Is(unicode.Cf, r) || r == 0x2028 || r == 0x2029 {
				t.Fatalf("Terminal(%q) = %q keeps %U", s, out, r)
			}
		}
		if !needsEscape(s) && out != s {
			t.Fatalf("Terminal(%q) = %q changed text with nothing to escape", s, out)
		}
	})
}

// FuzzShell: a real POSIX shell reads Shell(s) back as s, one word, and
// runs nothing of it.
func FuzzShell(f *testing.F) {
	for _, s := range []string{"", "x", "it's", "a\nb; touch PWNED", "$(id)", "`id`", "'\"'\"", "\\", "!x", "*"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if strings.ContainsRune(s, 0) {
			return // a NUL cannot be in any process argument, ours or kubectl's
		}
		out, err := exec.Command("sh", "-c", "printf '%s' "+Shell(s)).Output()
		if err != nil || string(out) != s {
			t.Fatalf("sh read %q back as %q (%v)", s, out, err)
		}
	})
}
