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

// shellUnprintable is what may not reach a clipboard or a terminal in
// shell text: anything but printable characters and the ASCII space (C0
// and C1 controls, DEL, bidi and other format characters, separators,
// unassigned and private-use code points) and invalid UTF-8.
func shellUnprintable(out string) (rune, bool) {
	if !utf8.ValidString(out) {
		return utf8.RuneError, true
	}
	for _, r := range out {
		if r != ' ' && !unicode.IsPrint(r) {
			return r, true
		}
	}
	return 0, false
}

// bashReads is what bash reads the word w back as.
func bashReads(t *testing.T, w string) string {
	t.Helper()
	out, err := exec.Command("bash", "-c", "printf '%s' "+w).Output()
	if err != nil {
		t.Fatalf("bash -c printf %s: %v", w, err)
	}
	return string(out)
}

// TestShellIsPasteSafe: a word with control characters is quoted in
// printable ANSI-C text ($'...'): copied to a clipboard and pasted into an
// interactive shell, no \r or ^C in it ends or cancels the line (issue
// 28). Plain words keep plain single quotes, which every POSIX sh reads.
func TestShellIsPasteSafe(t *testing.T) {
	for in, want := range map[string]string{
		"plain":                          `'plain'`,
		"it's":                           `'it'\''s'`,
		"café 名前 $(id) `x` \\ !":         "'café 名前 $(id) `x` \\ !'",
		"pj3\x03 x; touch PASTEPWNED\r#": `$'pj3\x03 x; touch PASTEPWNED\r#'`,
		"nl\ntouch X\n#":                 `$'nl\ntouch X\n#'`,
		"tab\t'q'\\!":                    `$'tab\t\'q\'\\\x21'`,
		"crb\x1b]0;T\x07\x1b[2J":         `$'crb\x1b]0;T\x07\x1b[2J'`,
		"bidi\u202eevil\u202c":           `$'bidi\xe2\x80\xaeevil\xe2\x80\xac'`,
		"c1\u009bdel\x7f":                `$'c1\xc2\x9bdel\x7f'`,
		"nbsp\u00a0bad\xff":              `$'nbsp\xc2\xa0bad\xff'`,
	} {
		got := Shell(in)
		if got != want {
			t.Errorf("Shell(%q) = %s, want %s", in, got, want)
		}
		if r, bad := shellUnprintable(got); bad {
			t.Errorf("Shell(%q) = %q keeps %U", in, got, r)
		}
		if back := bashReads(t, got); back != in {
			t.Errorf("bash reads Shell(%q) = %s back as %q", in, got, back)
		}
	}
}

// FuzzShell: bash reads Shell(s) back as s, one word, and runs nothing of
// it; and the quoted text is printable, so that pasting it is as safe as
// running it.
func FuzzShell(f *testing.F) {
	for _, s := range []string{"", "x", "it's", "a\nb; touch PWNED", "$(id)", "`id`", "'\"'\"", "\\", "!x", "*",
		"pj3\x03 x; touch PASTEPWNED\r#", "\u202e'\\!", "\xff\x80", "\u00a0\u2028"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if strings.ContainsRune(s, 0) {
			return // a NUL cannot be in any process argument, ours or kubectl's
		}
		q := Shell(s)
		if r, bad := shellUnprintable(q); bad {
			t.Fatalf("Shell(%q) = %q keeps %U: not paste-safe", s, q, r)
		}
		out, err := exec.Command("bash", "-c", "printf '%s' "+q).Output()
		if err != nil || string(out) != s {
			t.Fatalf("bash read %q back as %q (%v) from %s", s, out, err, q)
		}
	})
}
