package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/kubectl-access/kubectl-access/internal/safe"
)

// The keys a state answers to are said once: each page's help() lists
// every key that acts in its state, most useful first, and stateKeys adds
// the explorer's own. The footer shows as many as fit (? and q always),
// the full help (?) all of them, and a test presses every key on every
// page and state: a key listed does something, a key not listed nothing.

// as is b described for a state where it does something more particular
// ("scroll" for ↑ in a YAML view).
func as(b key.Binding, desc string) key.Binding {
	b.SetHelp(b.Help().Key, desc)
	return b
}

// either is one entry for several bindings of the map that do the same
// here (enter and → open the detail).
func either(keyHelp, desc string, bs ...key.Binding) key.Binding {
	var keys []string
	for _, b := range bs {
		keys = append(keys, b.Keys()...)
	}
	return key.NewBinding(key.WithKeys(keys...), key.WithHelp(keyHelp, desc))
}

// scrollKeys are the keys that scroll a text (a detail, a YAML view)
// where they can: up only below its top, down only above its end.
func scrollKeys(k *KeyMap, atTop, atBottom bool) []key.Binding {
	var keys []key.Binding
	if !atTop {
		keys = append(keys, as(k.Up, "scroll up"))
	}
	if !atBottom {
		keys = append(keys, as(k.Down, "scroll down"))
	}
	return append(keys, pageKeys(k, atTop, atBottom)...)
}

// pageKeys are the page and end keys of a text, where they can act.
func pageKeys(k *KeyMap, atTop, atBottom bool) []key.Binding {
	var keys []key.Binding
	if !atTop {
		keys = append(keys, k.PageUp, as(k.Home, "top"))
	}
	if !atBottom {
		keys = append(keys, k.PageDown, as(k.End, "bottom"))
	}
	return keys
}

// ends says whether a detail pane is at its top and at its end.
func (d *detailPane) ends() (atTop, atBottom bool) { return d.vp.AtTop(), d.vp.AtBottom() }

// stateName names the page and state the keys are for.
func (m *Model) stateName() string {
	switch {
	case m.showProblems:
		return "the Problems panel"
	case m.sess == nil && m.loading:
		return "loading"
	case m.sess == nil:
		return "the load failed"
	}
	p := m.pages[m.active]
	name := p.title()
	if md, ok := p.(interface{ mode() string }); ok {
		name += ", " + md.mode()
	}
	return name
}

// stateKeys are the keys of the state on screen: the page's (each that
// acts, the most useful first) and the explorer's own.
func (m *Model) stateKeys() (page, global []key.Binding) {
	k := m.c.Keys
	switch {
	case m.showHelp || m.showProblems:
		return scrollKeys(k, m.panelTop == 0, m.panelTop >= m.panelMax), []key.Binding{as(k.Back, "close"), as(k.Help, "close"), k.Quit, k.ForceQuit}
	case m.sess == nil && m.loading:
		return nil, []key.Binding{k.Help, k.Quit, k.ForceQuit}
	case m.sess == nil:
		g := []key.Binding{as(k.Reload, "retry")}
		if m.session && m.deps.signIn != nil {
			g = append(g, k.SignIn)
		}
		return nil, append(g, k.Help, k.Quit, k.ForceQuit)
	}
	p := m.pages[m.active]
	if p.typing() {
		return p.help(), []key.Binding{k.ForceQuit}
	}
	global = []key.Binding{k.NextPage, k.PrevPage}
	if t, ok := p.(interface{ atTop() bool }); ok && t.atTop() && len(m.back) > 0 {
		global = append([]key.Binding{as(k.Back, "back to where enter came from")}, global...)
	}
	for i, b := range []key.Binding{k.Page1, k.Page2, k.Page3, k.Page4} {
		if i != m.active {
			global = append(global, b)
		}
	}
	global = append(global, k.Narrow, k.Widen, k.Zoom, k.Problems)
	if !m.loading {
		global = append(global, k.Reload)
	}
	if m.session && m.deps.signIn != nil {
		global = append(global, k.SignIn)
	}
	return p.help(), append(global, k.Help, k.Quit, k.ForceQuit)
}

// footer is the status line and the keys: the page's first, then the
// explorer's, cut from the end to fit, with ? and q never cut.
func (m *Model) footer() string {
	st, w := m.c.Styles, m.c.Width
	status := m.statusLine()
	page, global := m.stateKeys()
	k := m.c.Keys
	var keys []key.Binding
	keys = append(keys, page...)
	for _, g := range global {
		// ? and q are the line's end; ctrl+c and the page numbers are
		// the tab bar's and ?'s to say.
		switch g.Help().Key {
		case k.Help.Help().Key, k.Quit.Help().Key, k.ForceQuit.Help().Key, k.PrevPage.Help().Key,
			k.Page1.Help().Key, k.Page2.Help().Key, k.Page3.Help().Key, k.Page4.Help().Key:
			continue
		}
		keys = append(keys, g)
	}
	always := m.help.ShortHelpView([]key.Binding{k.Help, k.Quit})
	switch {
	case m.showHelp || m.showProblems:
		always = m.help.ShortHelpView([]key.Binding{as(k.Help, "close"), k.Quit})
	case m.sess != nil && m.pages[m.active].typing():
		// ? and q are letters while a line is typed: they act once it
		// is closed.
		always = m.help.ShortHelpView([]key.Binding{as(k.Help, "help"), as(k.Quit, "quit, after enter")})
	}
	sep := m.help.Styles.ShortSeparator.Render(m.help.ShortSeparator)
	line := always
	room := w - ansi.StringWidth(always) - ansi.StringWidth(sep)
	shown := keys
	for len(shown) > 0 && ansi.StringWidth(m.help.ShortHelpView(shown)) > room {
		// Whole keys give way, the last first, with a mark that ? lists
		// them all.
		shown = shown[:len(shown)-1]
		room = w - ansi.StringWidth(always) - 2*ansi.StringWidth(sep) - 1
	}
	switch {
	case len(keys) == 0:
	case len(shown) == len(keys):
		line = m.help.ShortHelpView(shown) + sep + always
	case len(shown) > 0:
		line = m.help.ShortHelpView(shown) + sep + "…" + sep + always
	default:
		line = "…" + sep + always
	}
	if ansi.StringWidth(line) > w {
		// Narrower than ? and q themselves (the explorer needs 40
		// columns): they are what stays.
		line = always
	}
	return ansi.Truncate(st.Status.Render(status), w, "…") + "\n" + ansi.Truncate(line, w, "…")
}

// statusLine is the line above the keys: a note, the reload, an error,
// else the page's own status.
func (m *Model) statusLine() string {
	st := m.c.Styles
	switch {
	case m.notice != "":
		return st.Warning.Render(safe.Terminal(m.notice))
	case m.note != "":
		return st.Warning.Render(safe.Terminal(m.note))
	case m.loading && m.sess != nil:
		return m.spin.View() + " reloading " + safe.Terminal(m.progress) + "…"
	case m.loadErr != nil && m.sess != nil:
		s := st.Error.Render("reload failed: " + firstLine(safe.Error(m.loadErr)))
		if m.session {
			s += "  L signs in again"
		}
		return s
	case m.sess != nil:
		// Pages write their status as plain text, a scope's namespace
		// in it: escaped here, once for every page.
		return safe.Terminal(m.pages[m.active].status())
	}
	return ""
}

// panelKey is a key while the help or the Problems panel is open: the
// movement keys scroll it, q quits, any other key closes it.
func (m *Model) panelKey(msg tea.KeyPressMsg) tea.Cmd {
	k := m.c.Keys
	switch movementOf(msg, k) {
	case moveUp:
		m.panelTop--
	case moveDown:
		m.panelTop++
	case movePageUp:
		m.panelTop -= m.c.Height / 2
	case movePageDown:
		m.panelTop += m.c.Height / 2
	case moveTop:
		m.panelTop = 0
	case moveBottom:
		m.panelTop = 1 << 30
	default:
		if key.Matches(msg, k.Quit) {
			m.quitting = true
			return tea.Quit
		}
		m.showHelp, m.showProblems = false, false
		return nil
	}
	m.panelTop = max(m.panelTop, 0) // panel clamps the end
	return nil
}

// panel draws a scrolled text in h lines; a last line says there is more.
func (m *Model) panel(text string, h int) string {
	lines := strings.Split(text, "\n")
	m.panelMax = max(len(lines)-h+1, 0) // the last line is the "more" line while there is more
	if len(lines) <= h {
		m.panelMax = 0
	}
	m.panelTop = min(m.panelTop, m.panelMax)
	lines = lines[m.panelTop:]
	if len(lines) > h {
		lines = append(lines[:h-1], m.c.Styles.Muted.Render(fmt.Sprintf("  ↓ %d more lines (↓, pgdn)", len(lines)-h+1)))
	}
	return fit(strings.Join(lines, "\n"), m.c.Width, h)
}

// fullHelp is ?: the keys of the state it was asked in, as stateKeys
// says them, then every key of the map.
func (m *Model) fullHelp() string {
	st := m.c.Styles
	var b strings.Builder
	b.WriteString("\n" + st.Title.Render("Now: "+m.helpFor) + "\n")
	m.writeKeys(&b, "Here", m.helpPage)
	m.writeKeys(&b, "Always", m.helpGlobal)
	b.WriteString("\n" + st.Title.Render("Every key") + "\n")
	for _, g := range m.c.Keys.HelpGroups() {
		m.writeKeys(&b, g.Name, g.Keys)
	}
	if m.sess != nil {
		// The view's own gaps and warnings are the Problems panel's,
		// each with its fix.
		if n := len(m.sess.Problems()); n > 0 {
			b.WriteString("\n" + st.Title.Render("This view") + fmt.Sprintf(" has %d problem(s), gaps or warnings: ! lists them with what fixes each.\n", n))
		}
	}
	b.WriteString(`
Filters: words match anywhere in a row; key:value one field; !term excludes
(findings: rule:, cat:, sev:, id:, ns:; subjects, roles: kind:, ns:, name:;
roles: res:, verb:, group: as the authorizer matches, subject:).
Who can: type VERB RESOURCE [NAME] [-n NS | -A]; tab completes.
The mouse wheel scrolls lists and details. ↑↓ scroll this help; q quits;
any other key closes it.`)
	return b.String()
}

// writeKeys writes a titled group of keys; lines break between keys,
// never inside one's words: a key stays beside what it does.
func (m *Model) writeKeys(b *strings.Builder, title string, keys []key.Binding) {
	if len(keys) == 0 {
		return
	}
	st := m.c.Styles
	b.WriteString(st.Title.Render(padRight(title, 8)))
	used := 0
	for i, kb := range keys {
		h := kb.Help()
		n := lipgloss.Width(h.Key + " " + h.Desc)
		switch {
		case i == 0:
		case used+3+n > m.c.Width-10:
			b.WriteString("\n        ")
			used = 0
		default:
			b.WriteString(" · ")
			used += 3
		}
		b.WriteString(st.Bold.Render(h.Key) + " " + h.Desc)
		used += n
	}
	b.WriteString("\n")
}
