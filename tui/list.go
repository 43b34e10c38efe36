package tui

import (
	"strings"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// column is one column of a list: a fixed width, or flex (the rest).
type column struct {
	title string
	width int
	flex  bool
	// short is the title where the whole one leaves the flex column too
	// little (its width then len(short)); the status line says it whole.
	short string
}

// minFlex is the least a flex column (a name) is given before the other
// columns' titles are shortened.
const minFlex = 24

// row is one line of a list. search is its lower-cased text for the
// filter; fields are the values `key:value` filter terms match.
type row struct {
	cells  []string
	search string
	fields map[string]string
	// test, when set, decides key:value terms itself (handled false: the
	// key is not its own).
	test func(key, value string) (matched, handled bool)
}

// list is a virtualised table: it renders only the rows on screen, so a
// page of 10,000 subjects draws as fast as one of ten, and its filter
// narrows the previous matches when the text only grows.
type list struct {
	cols    []column
	rows    []row
	match   []int // indices into rows that pass the filter
	cursor  int   // index into match
	offset  int   // first visible match
	width   int
	height  int // rows on screen, the header included
	filter  string
	extra   func(row) bool // a page's own filter (category), or nil
	styles  *Styles
	focused bool
	// top is the screen line of the column titles, for mouse clicks; the
	// page sets it when it lays itself out.
	top int
}

// click moves the cursor to the row clicked on, and says whether the
// click was on a row.
func (l *list) click(m tea.Mouse) bool {
	if m.Button != tea.MouseLeft || m.X >= l.width {
		return false
	}
	i := l.offset + m.Y - l.top - 1
	if m.Y <= l.top || m.Y > l.top+l.visible() || i >= len(l.match) {
		return false
	}
	l.cursor = i
	return true
}

func newList(s *Styles, cols ...column) *list {
	return &list{cols: cols, styles: s, focused: true}
}

// setRows replaces the rows, keeps the filter and, where it can, the
// cursor on the same row.
func (l *list) setRows(rows []row) {
	var keep string
	if i, ok := l.selected(); ok {
		keep = l.rows[i].search
	}
	l.rows = rows
	l.refilter(true)
	if keep != "" {
		for mi, ri := range l.match {
			if l.rows[ri].search == keep {
				l.cursor = mi
				break
			}
		}
	}
	l.clamp()
}

// setFilter applies a filter: every space-separated term must match, a
// `key:value` term against that field, any other term anywhere in the row.
func (l *list) setFilter(f string) {
	f = strings.ToLower(strings.TrimSpace(f))
	// Typing on only narrows the matches, so only they are checked again,
	// unless a term turns into a key:value term (or back), which matches
	// differently.
	narrowing := l.filter != "" && strings.HasPrefix(f, l.filter) && !strings.Contains(f, "!") &&
		strings.Count(f, ":") == strings.Count(l.filter, ":") && !strings.HasSuffix(l.filter, ":")
	l.filter = f
	l.refilter(!narrowing)
	l.cursor, l.offset = 0, 0
}

func (l *list) refilter(all bool) {
	terms := strings.Fields(l.filter)
	pass := func(r *row) bool {
		if l.extra != nil && !l.extra(*r) {
			return false
		}
		for _, t := range terms {
			// "!term" keeps the rows the term does not match.
			neg := strings.HasPrefix(t, "!") && len(t) > 1
			if neg {
				t = t[1:]
			}
			if matches(r, t) == neg {
				return false
			}
		}
		return true
	}
	if all || l.match == nil {
		l.match = make([]int, 0, len(l.rows))
		for i := range l.rows {
			if pass(&l.rows[i]) {
				l.match = append(l.match, i)
			}
		}
		return
	}
	kept := l.match[:0]
	for _, i := range l.match {
		if pass(&l.rows[i]) {
			kept = append(kept, i)
		}
	}
	l.match = kept
}

// matches says whether one filter term matches a row: key:value matches
// the row's field (ns:web, rule:secrets; "key:" alone every row with the
// key), anything else the row's text.
func matches(r *row, t string) bool {
	if k, v, ok := strings.Cut(t, ":"); ok {
		if r.test != nil {
			if m, handled := r.test(k, v); handled {
				return m
			}
		}
		if fv, has := r.fields[k]; has {
			if k == "ns" || k == "namespace" {
				return strings.HasPrefix(fv, v) // ns:pay is the namespaces starting with pay, not every one that contains it
			}
			return strings.Contains(fv, v)
		}
	}
	return strings.Contains(r.search, t)
}

// selected returns the index into rows under the cursor.
func (l *list) selected() (int, bool) {
	if l.cursor < 0 || l.cursor >= len(l.match) {
		return 0, false
	}
	return l.match[l.cursor], true
}

func (l *list) setSize(w, h int) {
	l.width, l.height = w, h
	l.clamp()
}

func (l *list) visible() int { return max(l.height-1, 1) }

func (l *list) move(n int) {
	l.cursor += n
	l.clamp()
}

func (l *list) clamp() {
	l.cursor = min(max(l.cursor, 0), max(len(l.match)-1, 0))
	if l.cursor < l.offset {
		l.offset = l.cursor
	}
	if v := l.visible(); l.cursor >= l.offset+v {
		l.offset = l.cursor - v + 1
	}
	l.offset = max(min(l.offset, len(l.match)-l.visible()), 0)
}

// update moves the cursor; it reports whether msg was a movement.
func (l *list) update(msg tea.Msg, k *KeyMap) bool {
	switch movementOf(msg, k) {
	case moveUp:
		l.move(-1)
	case moveDown:
		l.move(1)
	case movePageUp:
		l.move(-l.visible())
	case movePageDown:
		l.move(l.visible())
	case moveTop:
		l.move(-len(l.match))
	case moveBottom:
		l.move(len(l.match))
	case moveWheelUp:
		l.move(-3)
	case moveWheelDown:
		l.move(3)
	default:
		return false
	}
	return true
}

// widths lays the columns out in the list's width: fixed columns as asked
// (shrunk when the screen is narrow), the flex column gets the rest.
func (l *list) widths() []int {
	ws := make([]int, len(l.cols))
	fixed := 0
	short := l.short()
	for i, c := range l.cols {
		if !c.flex {
			ws[i] = c.width
			if short && c.short != "" {
				ws[i] = len(c.short)
			}
			fixed += ws[i] + 1
		}
	}
	rest := l.width - fixed - 1 // the cursor's gutter
	for i, c := range l.cols {
		if c.flex {
			ws[i] = max(rest, 8)
		}
	}
	return ws
}

func (l *list) view() string {
	ws := l.widths()
	var b strings.Builder
	line := func(cells []string) string {
		var lb strings.Builder
		for i, w := range ws {
			c := ""
			if i < len(cells) {
				c = cells[i]
			}
			if i > 0 {
				lb.WriteByte(' ')
			}
			c = ansi.Truncate(c, w, "…")
			lb.WriteString(c)
			if pad := w - ansi.StringWidth(c); pad > 0 && i < len(ws)-1 {
				lb.WriteString(strings.Repeat(" ", pad))
			}
		}
		return ansi.Truncate(lb.String(), l.width-1, "")
	}
	titles := make([]string, len(l.cols))
	short := l.short()
	for i, c := range l.cols {
		titles[i] = c.title
		if short && c.short != "" {
			titles[i] = c.short
		}
	}
	b.WriteString(l.styles.Header.Render(padRight(" "+line(titles), l.width)))
	if len(l.match) == 0 {
		b.WriteString("\n" + l.styles.Muted.Render(l.empty()))
		return b.String()
	}
	end := min(l.offset+l.visible(), len(l.match))
	for mi := l.offset; mi < end; mi++ {
		cells := l.rows[l.match[mi]].cells
		if mi == l.cursor {
			// The cursor row is one style from end to end: a cell's
			// own colour (a severity) would end the highlight with it.
			plain := make([]string, len(cells))
			for i, c := range cells {
				plain[i] = ansi.Strip(c)
			}
			cells = plain
		}
		text := line(cells)
		b.WriteByte('\n')
		// The cursor row is marked in the gutter too: NO_COLOR terminals
		// get no reverse video or bold.
		switch {
		case mi == l.cursor && l.focused:
			b.WriteString(l.styles.Selected.Render(padRight("›"+text, l.width)))
		case mi == l.cursor:
			b.WriteString(l.styles.Bold.Render(padRight("›"+text, l.width)))
		default:
			b.WriteString(" " + text)
		}
	}
	return b.String()
}

func (l *list) empty() string {
	if len(l.rows) == 0 {
		return "nothing here"
	}
	return "no row matches the filter"
}

// position is "12/3,400" for the status line.
func (l *list) position() string {
	if len(l.match) == 0 {
		return "0/0"
	}
	return itoa(l.cursor+1) + "/" + itoa(len(l.match))
}

func padRight(s string, w int) string {
	if pad := w - ansi.StringWidth(s); pad > 0 {
		return s + strings.Repeat(" ", pad)
	}
	return s
}

// short says the titles are shortened: the whole ones would leave the
// flex column less than minFlex.
func (l *list) short() bool {
	fixed := 1
	for _, c := range l.cols {
		if !c.flex {
			fixed += c.width + 1
		}
	}
	return l.width-fixed < minFlex
}

// legend says the shortened titles whole ("" when none is shortened).
func (l *list) legend() string {
	if !l.short() {
		return ""
	}
	var parts []string
	for _, c := range l.cols {
		if c.short != "" {
			parts = append(parts, c.short+" "+strings.ToLower(c.title))
		}
	}
	return strings.Join(parts, ", ")
}
