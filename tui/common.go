package tui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/kubectl-access/kubectl-access/access"
	"github.com/kubectl-access/kubectl-access/internal/humanize"
)

// Common is what every page shares: the screen size, styles and keys.
type Common struct {
	Width, Height int
	Styles        *Styles
	Keys          *KeyMap
	// ListShift moves the split between list and detail by tenths of the
	// screen (< and >); Zoom gives the focused pane all of it (z).
	ListShift int
	Zoom      bool
}

// page is one of the explorer's pages. Pages are changed only from the
// root model's Update, and the root knows them only through this
// interface.
type page interface {
	title() string
	// badge is a count shown beside the title in the tab bar ("" none).
	badge() string
	// setSession hands the page a new session; the page only keeps it:
	// its rows are built by build, when the page is shown.
	setSession(*access.Session)
	// build makes the page's rows from its session if it has not yet
	// (the first screen builds only the page it shows).
	build()
	// audited says the session's audit has finished (Session.Audited),
	// which runs after the first screen is drawn.
	audited()
	setSize(w, h int)
	// enter is called when the page becomes the active one.
	enter() tea.Cmd
	update(tea.Msg) tea.Cmd
	view() string
	// typing is true while a text input has the keyboard: the page gets
	// every key, the global ones (q, 1-4, tab) included.
	typing() bool
	// help lists the page's keys for the help line.
	help() []key.Binding
	// status is the page's part of the status line: plain text, which
	// the model escapes (names in it are data).
	status() string
}

// filterBar is the `/` filter line of a list page.
type filterBar struct {
	input  textinput.Model
	active bool
}

func newFilterBar(k *KeyMap) filterBar {
	in := textinput.New()
	in.Prompt = "/"
	in.Placeholder = "filter: words, or key:value"
	in.KeyMap.DeleteBeforeCursor = k.Erase
	return filterBar{input: in}
}

// update handles a key while the filter is active and reports whether the
// filter text changed; enter closes the line keeping the filter, esc closes
// it and clears the filter.
func (f *filterBar) update(msg tea.Msg, k *KeyMap) (changed bool, cmd tea.Cmd) {
	if km, ok := msg.(tea.KeyPressMsg); ok {
		switch {
		case key.Matches(km, k.Enter):
			f.active = false
			f.input.Blur()
			return false, nil
		case key.Matches(km, k.Back):
			f.active = false
			f.input.Blur()
			f.input.SetValue("")
			return true, nil
		}
	}
	before := f.input.Value()
	f.input, cmd = f.input.Update(msg)
	return f.input.Value() != before, cmd
}

// open edits the filter applied, the cursor at its end: what is typed
// changes it in sight (ctrl+u empties the line, esc clears the filter).
func (f *filterBar) open() tea.Cmd {
	f.active = true
	f.input.CursorEnd()
	return f.input.Focus()
}

func (f *filterBar) value() string { return f.input.Value() }

// clear drops an applied filter.
func (f *filterBar) clear() { f.input.SetValue("") }

// view draws the filter line: the text filter, and the page's other
// filters in force (the findings' category), so every filter applied is
// on the line.
func (f *filterBar) view(s *Styles, others ...string) string {
	var parts []string
	switch {
	case f.active:
		parts = append(parts, f.input.View())
	case f.input.Value() != "":
		parts = append(parts, s.Muted.Render("filter: ")+f.input.Value()+s.Muted.Render("  (/ to edit, esc to clear)"))
	}
	for _, o := range others {
		if o != "" {
			parts = append(parts, o)
		}
	}
	return strings.Join(parts, "  ")
}

// split lays out a list and its detail: side by side on a wide screen,
// stacked on a narrow one. It returns the sizes of both.
type split struct {
	wide, zoom       bool
	listW, listH     int
	detailW, detailH int
}

// layout splits w x h: the list takes 45% of a wide screen's width or 40%
// of a narrow one's height, moved by c.ListShift tenths; zoomed, each pane
// has it all and join shows the focused one.
func layout(c *Common, w, h int) split {
	if c.Zoom {
		return split{zoom: true, wide: w >= 120, listW: w, listH: h, detailW: w, detailH: h}
	}
	if w >= 120 {
		lw := min(max(w*(45+10*c.ListShift)/100, 20), w-21)
		return split{wide: true, listW: lw, listH: h, detailW: w - lw - 1, detailH: h}
	}
	lh := min(max(h*(40+10*c.ListShift)/100, 4), max(h-4, 4))
	return split{listW: w, listH: lh, detailW: w, detailH: max(h-lh-1, 1)}
}

func (s split) join(st *Styles, list, detail string, detailFocused bool) string {
	if s.zoom {
		if detailFocused {
			return fit(detail, s.detailW, s.detailH)
		}
		return fit(list, s.listW, s.listH)
	}
	rule := st.Rule
	if detailFocused {
		rule = st.FocusedRule
	}
	list = fit(list, s.listW, s.listH)
	detail = fit(detail, s.detailW, s.detailH)
	// Which pane has the keyboard shows in text too (NO_COLOR drops the
	// rule's colour): a heavy rule and a label beside the focused pane.
	if s.wide {
		ll, dl := strings.Split(list, "\n"), strings.Split(detail, "\n")
		bar := "│"
		if detailFocused {
			bar = "┃"
		}
		var b strings.Builder
		for i := range ll {
			if i > 0 {
				b.WriteByte('\n')
			}
			b.WriteString(ll[i] + rule.Render(bar) + dl[i])
		}
		return b.String()
	}
	label, line := "── ▲ list has the keys · enter: detail ", "─"
	if detailFocused {
		label, line = "━━ ▼ detail has the keys · esc: back to the list ", "━"
	}
	label = ansi.Truncate(label, s.listW, "")
	sep := label + strings.Repeat(line, max(s.listW-ansi.StringWidth(label), 0))
	return list + "\n" + rule.Render(sep) + "\n" + detail
}

// fit pads or cuts s to exactly w columns and h lines.
func fit(s string, w, h int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > h {
		lines = lines[:h]
	}
	for len(lines) < h {
		lines = append(lines, "")
	}
	for i, l := range lines {
		lines[i] = padRight(ansi.Truncate(l, w, "…"), w)
	}
	return strings.Join(lines, "\n")
}

// detailPane is a scrollable detail view.
type detailPane struct {
	vp viewport.Model
}

func newDetailPane(wrap bool) detailPane {
	vp := viewport.New()
	vp.SoftWrap = wrap
	return detailPane{vp: vp}
}

func (d *detailPane) setSize(w, h int) {
	d.vp.SetWidth(w)
	d.vp.SetHeight(h)
}

// setContent replaces the text; top scrolls back to the first line.
func (d *detailPane) setContent(s string, top bool) {
	d.vp.SetContent(s)
	if top {
		d.vp.GotoTop()
	}
}

// movement is what a key or the mouse wheel asks a list or a pane to do.
type movement int

const (
	moveNone movement = iota
	moveUp
	moveDown
	movePageUp
	movePageDown
	moveTop
	moveBottom
	moveWheelUp   // three rows or lines up
	moveWheelDown // three down
)

// movementOf reads msg as a movement, moveNone if it is not one.
func movementOf(msg tea.Msg, k *KeyMap) movement {
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		switch {
		case key.Matches(msg, k.Up):
			return moveUp
		case key.Matches(msg, k.Down):
			return moveDown
		case key.Matches(msg, k.PageUp):
			return movePageUp
		case key.Matches(msg, k.PageDown):
			return movePageDown
		case key.Matches(msg, k.Home):
			return moveTop
		case key.Matches(msg, k.End):
			return moveBottom
		}
	case tea.MouseWheelMsg:
		switch msg.Button {
		case tea.MouseWheelUp:
			return moveWheelUp
		case tea.MouseWheelDown:
			return moveWheelDown
		}
	}
	return moveNone
}

// update scrolls the pane; it reports whether msg was a movement.
func (d *detailPane) update(msg tea.Msg, k *KeyMap) bool {
	switch movementOf(msg, k) {
	case moveUp:
		d.vp.ScrollUp(1)
	case moveDown:
		d.vp.ScrollDown(1)
	case movePageUp:
		d.vp.PageUp()
	case movePageDown:
		d.vp.PageDown()
	case moveTop:
		d.vp.GotoTop()
	case moveBottom:
		d.vp.GotoBottom()
	case moveWheelUp:
		d.vp.ScrollUp(3)
	case moveWheelDown:
		d.vp.ScrollDown(3)
	default:
		return false
	}
	return true
}

func (d *detailPane) view() string { return d.vp.View() }

// itoa writes a count with thousands separators, as the CLI does.
func itoa(n int) string { return humanize.Int(n) }

// styleLines styles each line of s on its own: lipgloss pads a multi-line
// block to its widest line, which a narrower pane would wrap.
func styleLines(st lipgloss.Style, s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = st.Render(l)
	}
	return strings.Join(lines, "\n")
}
