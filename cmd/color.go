package cmd

import (
	"fmt"
	"io"
	"os"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/kubectl-access/kubectl-access/audit"
	"github.com/kubectl-access/kubectl-access/tui"
)

// The CLI's tables are coloured (the severities as the explorer has them,
// yes and no) only where a person reads them: --color=auto (the default)
// colours a terminal's output unless NO_COLOR is set or TERM is dumb;
// always colours a pipe too (NO_COLOR does not override the flag, as
// no-color.org asks); never never. A pipe, a file or a script gets the
// same bytes as before colour existed.

// Color modes of --color.
const (
	ColorAuto   = "auto"
	ColorAlways = "always"
	ColorNever  = "never"
)

// addColorFlag adds --color to every command and checks its value.
func (r *RootOptions) addColorFlag(root *cobra.Command) {
	root.PersistentFlags().StringVar(&r.Color, "color", ColorAuto, "Colour the tables (severities, yes/no): auto (a terminal's output, unless NO_COLOR is set or TERM is dumb), always or never; pipes get no colour unless always")
	pre := root.PersistentPreRunE
	root.PersistentPreRunE = func(c *cobra.Command, args []string) error {
		switch r.Color {
		case ColorAuto, ColorAlways, ColorNever:
		default:
			return fmt.Errorf("--color must be auto, always or never, not %q", r.Color)
		}
		if pre != nil {
			return pre(c, args)
		}
		return nil
	}
}

// colorOn decides whether output is coloured: mode is --color, tty says
// the output is a terminal, getenv reads the environment.
func colorOn(mode string, tty bool, getenv func(string) string) bool {
	switch mode {
	case ColorAlways:
		return true
	case ColorNever:
		return false
	}
	return tty && getenv("NO_COLOR") == "" && getenv("TERM") != "dumb"
}

// painter colours the CLI's words where colour is on; off, it returns
// them as they are, byte for byte.
type painter struct {
	on      bool
	profile colorprofile.Profile
}

// paint returns the painter for output written to out.
func (r *RootOptions) paint(out io.Writer) painter {
	f, ok := out.(*os.File)
	tty := ok && term.IsTerminal(int(f.Fd()))
	if !colorOn(r.Color, tty, os.Getenv) {
		return painter{}
	}
	p := colorprofile.Env(os.Environ())
	if p < colorprofile.ANSI {
		p = colorprofile.ANSI // always, into a pipe or on a terminal that says nothing
	}
	return painter{on: true, profile: p}
}

func (p painter) style(st lipgloss.Style, s string) string {
	if !p.on {
		return s
	}
	var b strings.Builder
	w := &colorprofile.Writer{Forward: &b, Profile: p.profile}
	_, _ = w.WriteString(st.Render(s))
	return b.String()
}

// severity colours text as the explorer colours sev.
func (p painter) severity(sev audit.Severity, text string) string {
	if !p.on {
		return text
	}
	return p.style(tui.SeverityStyles(p.profile)[sev], text)
}

// verdict colours can's answer: yes green, no red, unknown yellow (bold:
// it is not a no).
func (p painter) verdict(word string) string {
	c := map[string]string{"yes": "2", "no": "1", "unknown": "3"}[word]
	if !p.on || c == "" {
		return word
	}
	return p.style(lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color(c)), word)
}
