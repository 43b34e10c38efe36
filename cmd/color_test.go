package cmd

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

// TestColorOn: --color=auto colours a terminal's output only, and NO_COLOR
// or TERM=dumb win over auto; always and never are what they say, the
// flag winning over NO_COLOR.
func TestColorOn(t *testing.T) {
	for _, c := range []struct {
		name string
		mode string
		tty  bool
		env  map[string]string
		want bool
	}{
		{"auto on a terminal", ColorAuto, true, nil, true},
		{"auto into a pipe", ColorAuto, false, nil, false},
		{"NO_COLOR wins over auto", ColorAuto, true, map[string]string{"NO_COLOR": "1"}, false},
		{"a dumb terminal", ColorAuto, true, map[string]string{"TERM": "dumb"}, false},
		{"always into a pipe", ColorAlways, false, nil, true},
		{"always wins over NO_COLOR", ColorAlways, false, map[string]string{"NO_COLOR": "1"}, true},
		{"never on a terminal", ColorNever, true, nil, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := colorOn(c.mode, c.tty, func(k string) string { return c.env[k] }); got != c.want {
				t.Errorf("colorOn(%s, tty %v, %v) = %v, want %v", c.mode, c.tty, c.env, got, c.want)
			}
		})
	}
}

// TestColorInTables: into a pipe (a buffer here) audit's and can's output
// is byte for byte what --color=never gives, with no escape; with
// --color=always the severities and the verdict are coloured, and the
// text without its colour is the same.
func TestColorInTables(t *testing.T) {
	for _, args := range [][]string{
		{"audit", "-f", "../audit/testdata/fixtures.yaml"},
		{"can", "user:u-admin", "get", "pods", "-f", "../audit/testdata/fixtures.yaml"},
		{"can", "user:u-viewer", "delete", "pods", "-n", "audit-a", "-f", "../audit/testdata/fixtures.yaml"},
	} {
		t.Run(args[0]+" "+args[1], func(t *testing.T) {
			auto, _, codeAuto := run(t, args...)
			never, _, codeNever := run(t, append(args, "--color=never")...)
			always, _, codeAlways := run(t, append(args, "--color=always")...)
			if codeAuto != codeNever || codeAuto != codeAlways {
				t.Fatalf("exit codes %d, %d, %d", codeAuto, codeNever, codeAlways)
			}
			if auto != never || strings.Contains(auto, "\x1b") {
				t.Errorf("into a pipe, auto differs from never or has an escape:\n%q", auto)
			}
			if !strings.Contains(always, "\x1b[") {
				t.Errorf("--color=always has no colour:\n%s", always)
			}
			if ansi.Strip(always) != never {
				t.Errorf("--color=always is more than never's text coloured:\n%q\n%q", ansi.Strip(always), never)
			}
		})
	}
	t.Run("NO_COLOR and always", func(t *testing.T) {
		t.Setenv("NO_COLOR", "1")
		out, _, _ := run(t, "audit", "-f", "../audit/testdata/fixtures.yaml", "--color=always")
		if !strings.Contains(out, "\x1b[") {
			t.Errorf("--color=always under NO_COLOR has no colour: the flag is the user's word for this run")
		}
	})
	if _, errOut, code := run(t, "audit", "-f", "../audit/testdata/fixtures.yaml", "--color=sometimes"); code == ExitOK || !strings.Contains(errOut, "--color must be auto, always or never") {
		t.Errorf("--color=sometimes: exit %d, %q", code, errOut)
	}
}
