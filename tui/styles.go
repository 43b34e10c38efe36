package tui

import (
	"image/color"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/colorprofile"

	"github.com/kubectl-access/kubectl-access/audit"
)

// Styles are every style the explorer draws with, defined once. Colours are
// the terminal's 16 ANSI colours, so they follow its theme, except the
// severities': those are fixed (SeverityColors), each readable on a dark
// and a light background alike (a test computes their contrast). The
// renderer drops colour for NO_COLOR and dumb terminals, which is why
// selection and focus also use reverse video and bold, which survive that.
type Styles struct {
	Title       lipgloss.Style
	Source      lipgloss.Style
	Tab         lipgloss.Style
	ActiveTab   lipgloss.Style
	Header      lipgloss.Style // column headers of a list
	Selected    lipgloss.Style // the list's cursor row
	Muted       lipgloss.Style
	Bold        lipgloss.Style
	Error       lipgloss.Style
	Warning     lipgloss.Style
	OK          lipgloss.Style
	Incomplete  lipgloss.Style
	Status      lipgloss.Style
	Rule        lipgloss.Style // the line between list and detail
	FocusedRule lipgloss.Style
	Cell        lipgloss.Style // the matrix cursor
	Allowed     lipgloss.Style
	Named       lipgloss.Style
	Added       lipgloss.Style
	Removed     lipgloss.Style
	Dialog      lipgloss.Style
	Severity    map[audit.Severity]lipgloss.Style
}

// NewStyles returns the explorer's styles.
func NewStyles() *Styles {
	c := lipgloss.Color
	return &Styles{
		Title:       lipgloss.NewStyle().Bold(true).Foreground(c("6")),
		Source:      lipgloss.NewStyle().Foreground(c("8")),
		Tab:         lipgloss.NewStyle(),
		ActiveTab:   lipgloss.NewStyle().Bold(true).Reverse(true),
		Header:      lipgloss.NewStyle().Bold(true),
		Selected:    lipgloss.NewStyle().Reverse(true),
		Muted:       lipgloss.NewStyle().Foreground(c("8")),
		Bold:        lipgloss.NewStyle().Bold(true),
		Error:       lipgloss.NewStyle().Bold(true).Foreground(c("1")),
		Warning:     lipgloss.NewStyle().Foreground(c("3")),
		OK:          lipgloss.NewStyle().Foreground(c("2")),
		Incomplete:  lipgloss.NewStyle().Bold(true).Foreground(c("3")),
		Status:      lipgloss.NewStyle().Foreground(c("6")),
		Rule:        lipgloss.NewStyle().Foreground(c("8")),
		FocusedRule: lipgloss.NewStyle().Foreground(c("6")).Bold(true),
		Cell:        lipgloss.NewStyle().Reverse(true).Bold(true),
		Allowed:     lipgloss.NewStyle().Foreground(c("2")).Bold(true),
		Named:       lipgloss.NewStyle().Foreground(c("3")),
		Added:       lipgloss.NewStyle().Foreground(c("2")),
		Removed:     lipgloss.NewStyle().Foreground(c("1")),
		Dialog:      lipgloss.NewStyle().Border(lipgloss.NormalBorder()).Padding(0, 1),
		Severity:    SeverityStyles(colorprofile.TrueColor),
	}
}

// SeverityStyles are the severities' styles for a terminal's colours (the
// explorer's, and the CLI's tables'): the
// fixed colours where it has 256 or more, else five of its 16, one hue
// each (bright red and red would be one red: magenta is critical's).
func SeverityStyles(p colorprofile.Profile) map[audit.Severity]lipgloss.Style {
	color := func(sev audit.Severity, ansi string) color.Color {
		if p == colorprofile.ANSI {
			return lipgloss.Color(ansi)
		}
		return lipgloss.Color(SeverityColors[sev])
	}
	return map[audit.Severity]lipgloss.Style{
		audit.Critical: lipgloss.NewStyle().Bold(true).Foreground(color(audit.Critical, "5")),
		audit.High:     lipgloss.NewStyle().Foreground(color(audit.High, "1")),
		audit.Medium:   lipgloss.NewStyle().Foreground(color(audit.Medium, "3")),
		audit.Low:      lipgloss.NewStyle().Foreground(color(audit.Low, "6")),
		audit.Info:     lipgloss.NewStyle().Foreground(color(audit.Info, "8")),
	}
}

// SeverityColors are the severities' colours, in the explorer and the
// CLI's tables alike: each of a relative luminance between 0.1 and 0.3, so
// it contrasts at least 3:1 with black and with white (a dark and a light
// terminal), and of a hue of its own (magenta-red, orange, olive, blue,
// grey), the most severe also bold.
var SeverityColors = map[audit.Severity]string{
	audit.Critical: "#D7005F",
	audit.High:     "#E65100",
	audit.Medium:   "#A08C00",
	audit.Low:      "#2E7DD7",
	audit.Info:     "#808080",
}
