// Package safe makes data printable: every string that came from a
// cluster or a file (object names, subjects, group display names, server
// messages) is data, never terminal control and never shell code. One
// function escapes for the terminal, one quotes for a POSIX shell, and
// every sink uses them.
package safe

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Terminal returns s with everything a terminal would act on shown as
// visible escapes instead: C0 and C1 control characters (ESC, CR, LF, BEL,
// backspace...) as \n, \r, \t or \xNN / \u00NN, DEL, Unicode bidirectional
// and invisible formatting characters (which reorder or hide what is
// shown) as \uNNNN, and invalid UTF-8 as \xNN. Printable text, spaces,
// backslashes (Windows paths) and non-ASCII letters pass unchanged, so
// ordinary names look as they are; nothing it lets through moves the
// cursor, ends the line or changes the terminal's state.
func Terminal(s string) string {
	if !needsEscape(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r >= 0x80 && r < 0xa0:
			fmt.Fprintf(&b, `\u%04x`, r)
		case hidden(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// needsEscape is the fast path: most names are plain ASCII.
func needsEscape(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == 0x7f || c >= 0x80 {
			if c >= 0x80 {
				return needsEscapeSlow(s[i:])
			}
			return true
		}
	}
	return false
}

func needsEscapeSlow(s string) bool {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || hidden(r) {
			return true
		}
		i += size
	}
	return false
}

// hidden are the characters that change how text around them is shown
// without showing themselves: bidirectional overrides and isolates (the
// "Trojan Source" characters), marks, zero-width characters and the other
// format characters (Unicode category Cf), and line and paragraph
// separators.
func hidden(r rune) bool {
	return unicode.Is(unicode.Cf, r) || r == 0x2028 || r == 0x2029
}

// Lines escapes each line of s for the terminal and keeps the line breaks:
// for text of several lines that the tool itself composed.
func Lines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = Terminal(l)
	}
	return strings.Join(lines, "\n")
}

// Shell quotes s as one word for the shell, in text that is as safe to
// paste as to run: nothing in it is a control character, so no \r, ^C or
// escape sequence of a name acts when the text is pasted into a terminal
// (or shown in one), and no name can end a command or start another.
//
// A word of printable characters is put in single quotes, inside which
// nothing is special, with each single quote closed, escaped and
// reopened: every POSIX sh reads it. A word holding anything else (C0 and
// C1 controls, DEL, bidirectional and other invisible format characters,
// separators, unassigned or private-use code points, invalid UTF-8) is
// put in ANSI-C quotes, $'...', with each such byte written as \xHH (and
// \n, \r, \t): bash, zsh, ksh and POSIX.1-2024 sh read it; a shell that
// does not (dash) reads a different word, which a guarded command then
// fails on rather than running it.
func Shell(s string) string {
	if shellPrintable(s) {
		return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
	}
	var b strings.Builder
	b.WriteString("$'")
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\\' || r == '\'':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '!':
			// Not history-expanded inside $'...' by today's bash;
			// older ones did.
			b.WriteString(`\x21`)
		case !shellPrintableRune(r):
			for _, c := range []byte(s[i : i+size]) {
				fmt.Fprintf(&b, `\x%02x`, c)
			}
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	b.WriteByte('\'')
	return b.String()
}

// shellPrintable says whether s is valid UTF-8 of printable characters
// and ASCII spaces only: shown as it is, it is what it says.
func shellPrintable(s string) bool {
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || !shellPrintableRune(r) {
			return false
		}
		i += size
	}
	return true
}

// shellPrintableRune: Unicode's graphic characters (letters, marks,
// numbers, punctuation, symbols) and the ASCII space; every other space,
// the separators and format characters are not.
func shellPrintableRune(r rune) bool { return r == ' ' || unicode.IsPrint(r) }

// ShellComment makes s safe on a shell comment line: the comment ends at
// the first newline, so every line break and control character is shown
// escaped instead and the whole text stays on the one line.
func ShellComment(s string) string { return Terminal(s) }

// Hinted is an error with advice on what to do next, printed on its own
// line after the error.
type Hinted struct {
	Err  error
	Hint string
}

func (h *Hinted) Error() string { return h.Err.Error() + "\n(" + h.Hint + ")" }
func (h *Hinted) Unwrap() error { return h.Err }

// Hint attaches advice to err.
func Hint(err error, hint string) error {
	if err == nil {
		return nil
	}
	return &Hinted{Err: err, Hint: hint}
}

// Error renders an error for the terminal: its message with every control
// character escaped (a name in it cannot add a line), then each hint of
// the chain on a line of its own.
func Error(err error) string {
	text := err.Error()
	var hints []string
	for e := err; ; {
		var h *Hinted
		if !errors.As(e, &h) {
			break
		}
		hints = append(hints, h.Hint)
		text = strings.Replace(text, "\n("+h.Hint+")", "", 1)
		e = h.Err
	}
	out := Terminal(text)
	for _, h := range hints {
		out += "\n(" + Terminal(h) + ")"
	}
	return out
}
