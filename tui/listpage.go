package tui

import (
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// listPage is what every list page shares: a `/` filter line, the
// virtualised list, a detail pane beside it (wide screens) or below it,
// and which of the two has the keyboard. A page embeds it and says, in
// sync, what the detail shows for the selected row.
type listPage struct {
	c      *Common
	list   *list
	filter filterBar
	detail detailPane
	lay    split
	// focus is true while the detail pane has the keyboard.
	focus bool
	// sync redraws the detail for the selected row; top scrolls it back
	// to its first line.
	sync func(top bool)
}

func newListPage(c *Common, wrap bool, cols ...column) listPage {
	return listPage{c: c, list: newList(c.Styles, cols...), filter: newFilterBar(c.Keys), detail: newDetailPane(wrap)}
}

func (lp *listPage) typing() bool { return lp.filter.active }

// resize lays the list and detail out in w x h, less the filter's line.
func (lp *listPage) resize(w, h int) {
	lp.lay = layout(lp.c, w, h-1)
	lp.list.top = headerLines + 1 // the filter's line
	lp.list.setSize(lp.lay.listW, lp.lay.listH)
	lp.detail.setSize(lp.lay.detailW, lp.lay.detailH)
}

// setFocus gives the keyboard to the detail (true) or the list.
func (lp *listPage) setFocus(detail bool) {
	lp.focus = detail
	lp.list.focused = !detail
}

// handleFilter feeds the filter line while it is open.
func (lp *listPage) handleFilter(msg tea.Msg) tea.Cmd {
	changed, cmd := lp.filter.update(msg, lp.c.Keys)
	if changed {
		lp.list.setFilter(lp.filter.value())
		lp.sync(true)
	}
	return cmd
}

// handle runs the keys every list page answers the same way: the filter
// while it is open, `/` to open it, enter or → into the detail, esc or ←
// back to the list, and moving in whichever has the keyboard. It reports
// whether it handled msg.
func (lp *listPage) handle(msg tea.Msg) (tea.Cmd, bool) {
	k := lp.c.Keys
	if lp.filter.active {
		return lp.handleFilter(msg), true
	}
	if km, ok := msg.(tea.KeyPressMsg); ok {
		switch {
		case key.Matches(km, k.Filter):
			// From the detail too: back to the list, filtering.
			if lp.focus {
				lp.setFocus(false)
				lp.sync(false)
			}
			return lp.openFilter(), true
		case key.Matches(km, k.Enter), key.Matches(km, k.Right):
			if _, ok := lp.list.selected(); ok && !lp.focus {
				lp.setFocus(true)
				lp.sync(false)
			}
			return nil, true
		case key.Matches(km, k.Back), key.Matches(km, k.Left):
			// One level back: the detail to the list, else (esc) an
			// applied filter cleared, as in k9s.
			switch {
			case lp.focus:
				lp.setFocus(false)
				lp.sync(false)
			case key.Matches(km, k.Back) && lp.filter.value() != "":
				lp.filter.clear()
				lp.list.setFilter("")
				lp.sync(true)
			}
			return nil, true
		}
	}
	if c, ok := msg.(tea.MouseClickMsg); ok {
		if lp.list.click(c.Mouse()) {
			lp.setFocus(false)
			lp.sync(true)
		}
		return nil, true
	}
	if lp.focus {
		return nil, lp.detail.update(msg, k)
	}
	if lp.list.update(msg, k) {
		lp.sync(true)
		return nil, true
	}
	return nil, false
}

// render draws the filter line, then the list and the detail.
func (lp *listPage) render(list, detail string) string {
	return lp.filter.view(lp.c.Styles) + "\n" + lp.lay.join(lp.c.Styles, list, detail, lp.focus)
}

func (lp *listPage) view() string { return lp.render(lp.list.view(), lp.detail.view()) }

// openFilter opens the filter line on the filter applied, to edit.
func (lp *listPage) openFilter() tea.Cmd {
	return lp.filter.open()
}

// editKeys are the keys that edit a line being typed (the text input's
// own), said once in the help.
var editKeys = key.NewBinding(key.WithKeys("backspace", "delete", "left", "right", "home", "end", "ctrl+a", "ctrl+e", "ctrl+w", "ctrl+k", "alt+backspace"),
	key.WithHelp("←→ ⌫", "edit the line"))

// filterKeys are the keys of the open filter line (letters type).
func (lp *listPage) filterKeys() []key.Binding {
	k := lp.c.Keys
	return []key.Binding{as(k.Enter, "keep the filter"), as(k.Back, "clear the filter"), k.Erase, editKeys}
}

// listKeys are a list page's keys while its list has the keyboard: moving,
// the filter, the detail, then the page's own, then the rest of moving.
func (lp *listPage) listKeys(own ...key.Binding) []key.Binding {
	k := lp.c.Keys
	keys := []key.Binding{k.Filter}
	if _, ok := lp.list.selected(); ok {
		step, page := lp.list.moveKeys(k)
		keys = append(step, k.Filter, either("enter/→", "open detail", k.Enter, k.Right))
		keys = append(keys, own...)
		keys = append(keys, page...)
	}
	if lp.filter.value() != "" {
		keys = append(keys, as(k.Back, "clear the filter"))
	}
	return keys
}

// detailKeys are the keys of a detail whose objects are links (links of
// them): ↑↓ mark one and enter goes to it, else ↑↓ scroll; the page's own
// keys follow, then the rest of scrolling.
func (lp *listPage) detailKeys(links, at int, own ...key.Binding) []key.Binding {
	k := lp.c.Keys
	top, bottom := lp.detail.ends()
	var keys []key.Binding
	if links > 1 {
		if at > 0 {
			keys = append(keys, as(k.Up, "mark up"))
		}
		if at < links-1 {
			keys = append(keys, as(k.Down, "mark down"))
		}
	} else {
		if !top {
			keys = append(keys, as(k.Up, "scroll up"))
		}
		if !bottom {
			keys = append(keys, as(k.Down, "scroll down"))
		}
	}
	if links > 0 {
		keys = append(keys, goTo)
	}
	keys = append(keys, either("esc/←", "back to the list", k.Back, k.Left), k.Filter)
	keys = append(keys, own...)
	return append(keys, pageKeys(k, top, bottom)...)
}

// mode names the state for the help.
func (lp *listPage) mode() string {
	switch {
	case lp.filter.active:
		return "typing a filter"
	case lp.focus:
		return "detail"
	}
	return "list"
}

// moveKeys are the keys that move the list's cursor where it can go (up
// not on the first row, down not on the last): a row at a time, and a
// page or to an end.
func (l *list) moveKeys(k *KeyMap) (step, page []key.Binding) {
	if len(l.match) == 0 {
		return nil, nil
	}
	first, last := l.cursor == 0, l.cursor >= len(l.match)-1
	if !first {
		step, page = append(step, k.Up), append(page, k.PageUp, k.Home)
	}
	if !last {
		step, page = append(step, k.Down), append(page, k.PageDown, k.End)
	}
	return step, page
}
