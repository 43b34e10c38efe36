package tui

import (
	"strings"

	"charm.land/lipgloss/v2/tree"
	"github.com/charmbracelet/x/ansi"

	"github.com/kubectl-access/kubectl-access/access"
	"github.com/kubectl-access/kubectl-access/internal/safe"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// matrixVerbs are the matrix's columns (access decides the matrix).
var matrixVerbs = access.MatrixVerbs

// matrixCellW is a verb column's width: "[✓*]" fits; the verbs, written
// whole, are staggered over two title lines so each may overrun its
// neighbours' columns.
const matrixCellW = 4

// matrixView is a subject's matrix drawn for its pane: the text, its two
// title lines (kept on screen when the matrix scrolls), and the lines each
// row spans (a resource name too long for its column wraps, whole).
type matrixView struct {
	text          string
	header        []string
	rowAt, rowEnd []int // from the matrix's first line, the titles' included
}

// drawMatrix draws p.mx in the detail's width.
func (p *subjectsPage) drawMatrix() matrixView {
	st := p.c.Styles
	verbsW := len(matrixVerbs) * (matrixCellW + 1)
	longest := 0
	for _, r := range p.mx.Rows {
		longest = max(longest, ansi.StringWidth(r.Label))
	}
	// The resource column takes what the verbs and 8 columns of other
	// verbs leave; a longer name wraps at its dots, never cut.
	w := max(min(longest, p.lay.detailW-verbsW-1-8, p.lay.detailW-verbsW-1-len("deletecollection")+matrixCellW+1), 12)
	otherW := max(p.lay.detailW-w-verbsW-1, 5)
	var mv matrixView
	// Two title lines: even columns' verbs on the first, odd ones' on
	// the second, each starting over its column.
	h1 := []rune(padRight("RESOURCE", w) + strings.Repeat(" ", verbsW+6))
	h2 := []rune(strings.Repeat(" ", w+verbsW+1))
	put := func(line []rune, at int, text string) []rune {
		for len(line) < at+len(text) {
			line = append(line, ' ')
		}
		copy(line[at:], []rune(text))
		return line
	}
	for i, v := range matrixVerbs {
		at := w + 1 + i*(matrixCellW+1)
		if i%2 == 0 {
			h1 = put(h1, at, v)
		} else {
			h2 = put(h2, at, v)
		}
	}
	h1 = put(h1, w+1+verbsW, "other")
	title := func(line []rune) string {
		s := strings.TrimRight(string(line), " ")
		if p.focus && p.col < len(matrixVerbs) {
			// The column under the cursor: its verb in bold.
			v := matrixVerbs[p.col]
			at := w + 1 + p.col*(matrixCellW+1)
			if at+len(v) <= len([]rune(s)) && string([]rune(s)[at:at+len(v)]) == v {
				rs := []rune(s)
				return st.Header.Render(string(rs[:at])) + st.Bold.Reverse(true).Render(v) + st.Header.Render(string(rs[at+len(v):]))
			}
		}
		return st.Header.Render(s)
	}
	mv.header = []string{title(h1), title(h2)}
	var b strings.Builder
	b.WriteString(mv.header[0] + "\n" + mv.header[1] + "\n")
	line := 2
	for ri, r := range p.mx.Rows {
		labels := strings.Split(ansi.Wrap(safe.Terminal(r.Label), w, "./"), "\n")
		other := safe.Terminal(strings.Join(r.Other, ","))
		if other == "" {
			other = "·"
		}
		others := strings.Split(ansi.Wrap(other, otherW, ","), "\n")
		mv.rowAt = append(mv.rowAt, line)
		for li := range max(len(labels), len(others)) {
			label := ""
			if li < len(labels) {
				label = labels[li]
			}
			label = padRight(label, w)
			if p.focus && ri == p.row {
				label = st.Bold.Render(label)
			}
			b.WriteString(label)
			if li == 0 {
				for ci := range matrixVerbs {
					yes := "  ✓ "
					if r.Cells[ci].Wild {
						yes = "  ✓*"
					}
					b.WriteString(" " + p.cellText(r.Cells[ci], ri, ci, yes, "  ~ ", "  · "))
				}
				last := r.Cells[len(matrixVerbs)]
				b.WriteString(" " + p.cellText(last, ri, len(matrixVerbs), others[0], others[0], others[0]))
			} else if li < len(others) {
				b.WriteString(strings.Repeat(" ", verbsW+1) + others[li])
			}
			b.WriteString("\n")
			line++
		}
		mv.rowEnd = append(mv.rowEnd, line-1)
	}
	legend := wrapText("✓ allowed  ✓* by a wildcard  ~ named objects only  · no  other: the other verbs held, * all", p.lay.detailW-2, "")
	b.WriteString(styleLines(st.Muted, legend))
	mv.text = b.String()
	return mv
}

func (p *subjectsPage) cellText(c access.MatrixCell, ri, ci int, yes, named, no string) string {
	st := p.c.Styles
	var s string
	switch c.State {
	case access.Allowed:
		s = st.Allowed.Render(yes)
	case access.NamedOnly:
		s = st.Named.Render(named)
	default:
		s = st.Muted.Render(no)
	}
	if p.focus && ri == p.row && ci == p.col {
		text := no
		switch c.State {
		case access.Allowed:
			text = yes
		case access.NamedOnly:
			text = named
		}
		// Brackets mark the cell where reverse video does not show.
		t := strings.TrimSpace(text)
		s = st.Cell.Render(padRight(" ["+t+"]", ansi.StringWidth(text)))
	}
	return s
}

// keepRowInView scrolls the detail so the cursor's row is on screen, below
// the titles when they are kept at the top.
func (p *subjectsPage) keepRowInView() {
	if p.row >= len(p.mview.rowAt) {
		return
	}
	vp := &p.detail.vp
	start, end := p.matrixTop+p.mview.rowAt[p.row], p.matrixTop+p.mview.rowEnd[p.row]
	top, h := vp.YOffset(), vp.Height()
	if end >= top+h {
		top = end - h + 1
	}
	if top > p.matrixTop && start < top+2 {
		top = start - 2 // under the kept titles
	}
	if start < top {
		top = start
	}
	vp.SetYOffset(max(top, 0))
}

// view draws the list and the detail, the matrix's titles kept at the
// top of the detail when it is scrolled past them, and the path of the
// cell under the cursor below it.
func (p *subjectsPage) view() string {
	detail := p.detail.view()
	if p.focus && !p.yaml && len(p.mview.header) == 2 && p.detail.vp.YOffset() > p.matrixTop && p.detail.vp.Height() > 4 {
		lines := strings.Split(detail, "\n")
		lines[0], lines[1] = p.mview.header[0], p.mview.header[1]
		detail = strings.Join(lines, "\n")
	}
	if p.pathH > 0 {
		rule := p.c.Styles.Muted.Render(strings.Repeat("╌", max(p.lay.detailW, 1)))
		detail = fit(detail, p.lay.detailW, p.lay.detailH-p.pathH) + "\n" + fit(rule+"\n"+p.path, p.lay.detailW, p.pathH)
	}
	return p.render(p.list.view(), detail)
}

// provenance renders the paths of one cell as a tree: binding -> role ->
// rule.
func provenance(s *Styles, title string, paths []rbac.Path) string {
	text, _ := provenanceLinks(s, title, paths, -1, 0)
	return text
}

// provenanceLinks renders the tree and lists the objects on it a detail
// can go to (each binding, then its role), numbered from first; the one
// numbered sel is marked "›" and bold, in text for NO_COLOR.
func provenanceLinks(s *Styles, title string, paths []rbac.Path, sel, first int) (string, []jumpMsg) {
	var links []jumpMsg
	mark := func(text string, j jumpMsg) string {
		n := first + len(links)
		links = append(links, j)
		if n == sel {
			return s.Bold.Render("› " + text)
		}
		return text
	}
	t := tree.Root(title)
	if len(paths) == 0 {
		t.Child(s.Muted.Render("no binding grants this here"))
	}
	for _, p := range paths {
		// The words are access's, as the CLI's tables have them; the
		// binding and the role are links where they are objects.
		bind, role, rule := safe.Terminal(access.PathBinding(p)), safe.Terminal(access.PathRole(p)), safe.Terminal(access.PathRule(p))
		if p.Azure == nil {
			if p.Binding != nil {
				b := *p.Binding
				bind = mark(bind, jumpMsg{ref: &b})
			}
			if p.Role.Kind != rbac.GroupKind {
				r := p.Role
				role = mark(role, jumpMsg{ref: &r})
			}
		}
		t.Child(tree.Root(bind).Child(tree.Root(role).Child(rule)))
	}
	return t.String(), links
}

// granted counts the cells a matrix grants, on every object or named ones.
func granted(mx access.Matrix) int {
	n := 0
	for _, r := range mx.Rows {
		for _, c := range r.Cells {
			if c.State != access.Denied {
				n++
			}
		}
	}
	return n
}
