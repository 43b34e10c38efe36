package tui

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/kubectl-access/kubectl-access/auth"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// subjectsPage lists every user, group and service account the cluster
// names, and for the selected one its effective permissions as a resource
// x verb matrix by namespace, with the provenance of the cell under the
// cursor.
type subjectsPage struct {
	c         *Common
	data      *Data
	list      *list
	filter    filterBar
	detail    detailPane
	subs      []subjectInfo
	focus     bool // the matrix has the keyboard
	sel       int  // the subject the matrix is for, -1 for none
	rules     []rbac.GrantedRule
	scopes    []string
	scope     int
	mx        matrix
	row       int
	col       int
	lay       split
	warning   string
	matrixTop int // the line the matrix starts on, to keep its cursor in view
}

type subjectInfo struct {
	s        rbac.Subject
	bindings int
	findings int
}

func newSubjectsPage(c *Common) *subjectsPage {
	p := &subjectsPage{c: c, sel: -1, filter: newFilterBar(), detail: newDetailPane(false)}
	p.list = newList(c.Styles,
		column{title: "KIND", width: 5},
		column{title: "NAME", flex: true},
		column{title: "NAMESPACE", width: 12},
		column{title: "BIND", width: 4},
		column{title: "FIND", width: 4},
	)
	return p
}

func (p *subjectsPage) title() string { return "Subjects" }

func (p *subjectsPage) typing() bool { return p.filter.active }

func (p *subjectsPage) setData(d *Data) {
	p.data = d
	p.subs = collectSubjects(d)
	rows := make([]row, len(p.subs))
	for i, si := range p.subs {
		name := si.s.Name
		if si.s.Kind == rbac.GroupKind {
			name = groupCell(d.Names, name)
		}
		kind := kindWord(si.s.Kind)
		rows[i] = row{
			cells:  []string{kind, name, si.s.Namespace, itoa(si.bindings), itoa(si.findings)},
			search: strings.ToLower(kind + " " + name + " " + si.s.Namespace),
			fields: map[string]string{"kind": strings.ToLower(kind), "ns": si.s.Namespace, "name": strings.ToLower(name)},
		}
	}
	p.list.setRows(rows)
	p.sel = -1
	p.syncDetail()
}

// groupCell is a group in a list column: its name first when known, since
// a column too narrow for a GUID and a name would cut the name off.
func groupCell(n auth.Names, id string) string {
	if name, ok := n[id]; ok && name != "" && name != id {
		return name + " (" + id + ")"
	}
	return id
}

// subjectCell is a subject in a list column, a group by its name first.
func subjectCell(n auth.Names, s rbac.Subject) string {
	if s.Kind == rbac.GroupKind {
		return "group:" + groupCell(n, s.Name)
	}
	return s.String()
}

func kindWord(k string) string {
	switch k {
	case rbac.UserKind:
		return "user"
	case rbac.GroupKind:
		return "group"
	case rbac.ServiceAccountKind:
		return "sa"
	}
	return strings.ToLower(k)
}

// collectSubjects gathers every subject a binding names, every service
// account, and system:masters (which no binding needs), with the number of
// bindings naming each and of findings about each.
func collectSubjects(d *Data) []subjectInfo {
	type key struct{ kind, namespace, name string }
	idx := map[key]int{}
	var out []subjectInfo
	get := func(s rbac.Subject) *subjectInfo {
		k := key{s.Kind, s.Namespace, s.Name}
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			out = append(out, subjectInfo{s: s})
		}
		return &out[i]
	}
	get(rbac.Subject{Kind: rbac.GroupKind, Name: rbac.GroupMasters})
	for _, b := range d.Index.Bindings() {
		for _, bs := range b.Subjects {
			s := rbac.Subject{Kind: bs.Kind, Name: bs.Name}
			switch bs.Kind {
			case rbac.UserKind, rbac.GroupKind:
			case rbac.ServiceAccountKind:
				s.Namespace = cmp.Or(bs.Namespace, b.Ref.Namespace)
				if s.Namespace == "" {
					continue
				}
			default:
				continue
			}
			get(s).bindings++
		}
	}
	for _, sa := range d.Index.Snapshot().ServiceAccounts {
		get(rbac.Subject{Kind: rbac.ServiceAccountKind, Namespace: sa.Namespace, Name: sa.Name})
	}
	if d.Report != nil {
		for _, f := range d.Report.Findings {
			for _, s := range f.Subjects {
				if i, ok := idx[key{s.Kind, s.Namespace, s.Name}]; ok {
					out[i].findings++
				}
			}
		}
	}
	order := map[string]int{rbac.UserKind: 0, rbac.GroupKind: 1, rbac.ServiceAccountKind: 2}
	slices.SortStableFunc(out, func(a, b subjectInfo) int {
		return cmp.Or(cmp.Compare(order[a.s.Kind], order[b.s.Kind]), cmp.Compare(a.s.Namespace, b.s.Namespace), cmp.Compare(a.s.Name, b.s.Name))
	})
	return out
}

func (p *subjectsPage) setSize(w, h int) {
	p.lay = layout(w, h-1) // a line for the filter
	p.list.setSize(p.lay.listW, p.lay.listH)
	p.detail.setSize(p.lay.detailW, p.lay.detailH)
	p.syncDetail()
}

func (p *subjectsPage) help() []key.Binding {
	k := p.c.Keys
	if p.focus {
		return []key.Binding{k.Up, k.Down, k.Left, k.Right, k.ScopePrev, k.ScopeNext, k.Back}
	}
	return []key.Binding{k.Up, k.Down, k.Filter, k.Enter}
}

func (p *subjectsPage) status() string {
	s := "subjects " + p.list.position()
	if p.focus && len(p.scopes) > 0 {
		s += "  scope " + scopeName(p.scopes[p.scope]) + fmt.Sprintf(" (%d/%d)", p.scope+1, len(p.scopes))
	}
	return s
}

func scopeName(s string) string {
	if s == "" {
		return "cluster-wide"
	}
	return "namespace " + s
}

func (p *subjectsPage) update(msg tea.Msg) tea.Cmd {
	k := p.c.Keys
	if p.filter.active {
		changed, cmd := p.filter.update(msg, k)
		if changed {
			p.list.setFilter(p.filter.value())
			p.syncDetail()
		}
		return cmd
	}
	if p.focus {
		return p.updateMatrix(msg)
	}
	if km, ok := msg.(tea.KeyPressMsg); ok {
		switch {
		case key.Matches(km, k.Filter):
			return p.filter.open()
		case key.Matches(km, k.Enter), key.Matches(km, k.Right):
			if _, ok := p.list.selected(); ok {
				p.focus = true
				p.list.focused = false
				p.syncDetail()
			}
			return nil
		}
	}
	if p.list.update(msg, k) {
		p.syncDetail()
	}
	return nil
}

func (p *subjectsPage) updateMatrix(msg tea.Msg) tea.Cmd {
	k := p.c.Keys
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		p.detail.update(msg, k) // the mouse wheel scrolls the detail
		return nil
	}
	switch {
	case key.Matches(km, k.Back):
		p.focus = false
		p.list.focused = true
	case key.Matches(km, k.Up):
		p.row = max(p.row-1, 0)
	case key.Matches(km, k.Down):
		p.row = min(p.row+1, max(len(p.mx.rows)-1, 0))
	case key.Matches(km, k.Left):
		p.col = max(p.col-1, 0)
	case key.Matches(km, k.Right):
		p.col = min(p.col+1, len(matrixVerbs))
	case key.Matches(km, k.ScopeNext):
		p.setScope(p.scope + 1)
	case key.Matches(km, k.ScopePrev):
		p.setScope(p.scope - 1)
	case key.Matches(km, k.PageDown), key.Matches(km, k.PageUp), key.Matches(km, k.Home), key.Matches(km, k.End):
		p.detail.update(msg, k)
		return nil
	default:
		return nil
	}
	p.syncDetail()
	return nil
}

func (p *subjectsPage) setScope(i int) {
	if len(p.scopes) == 0 {
		return
	}
	p.scope = (i + len(p.scopes)) % len(p.scopes)
	p.mx = buildMatrix(p.rules, p.scopes[p.scope])
	p.row = min(p.row, max(len(p.mx.rows)-1, 0))
}

// syncDetail recomputes the detail for the selected subject: its rules
// once per selection (WhatCan), the matrix once per scope.
func (p *subjectsPage) syncDetail() {
	if p.data == nil {
		return
	}
	i, ok := p.list.selected()
	if !ok {
		p.sel = -1
		p.detail.setContent(p.c.Styles.Muted.Render("no subject selected"), true)
		return
	}
	top := false
	if i != p.sel {
		p.sel, top = i, true
		s := p.subs[i].s
		res := p.data.Index.WhatCan(s.Identity(), "")
		p.rules = res.Rules
		p.warning = ""
		if res.Incomplete {
			p.warning = "INCOMPLETE: some RBAC objects could not be read; this subject may hold more"
		}
		p.scopes = scopes(p.rules)
		p.scope, p.row, p.col = 0, 0, 0
		p.mx = buildMatrix(p.rules, "")
	}
	p.detail.setContent(p.renderDetail(), top)
	if p.focus {
		p.detail.vp.EnsureVisible(p.matrixTop+1+p.row, 0, 0)
	}
}

func (p *subjectsPage) renderDetail() string {
	st := p.c.Styles
	si := p.subs[p.sel]
	var b strings.Builder
	name := si.s.String()
	if si.s.Kind == rbac.GroupKind {
		name = "group:" + p.data.Names.Label(si.s.Name)
	}
	b.WriteString(st.Bold.Render(name) + "\n")
	id := si.s.Identity()
	if len(id.Groups) > 0 && si.s.Kind != rbac.GroupKind {
		b.WriteString(st.Muted.Render("also in "+strings.Join(labels(p.data, id.Groups), ", ")) + "\n")
	}
	if p.warning != "" {
		b.WriteString(st.Incomplete.Render(p.warning) + "\n")
	}
	if len(p.rules) == 0 {
		b.WriteString("\nholds no permission through RBAC\n")
		return b.String()
	}
	// Scopes line: cluster-wide  [team-a]  team-b ...
	var sc []string
	for i, s := range p.scopes {
		n := s
		if s == "" {
			n = "cluster-wide"
		}
		if i == p.scope {
			n = st.ActiveTab.Render("[" + n + "]")
		}
		sc = append(sc, n)
	}
	b.WriteString("\n" + ansi.Truncate(strings.Join(sc, " "), max(p.lay.detailW, 10), "…") + "\n")
	if !p.focus {
		b.WriteString(st.Muted.Render("enter: explore the matrix and the path behind each cell; [ ] namespaces") + "\n")
	}
	p.matrixTop = strings.Count(b.String(), "\n")
	b.WriteString(p.renderMatrix())
	if p.focus && p.row < len(p.mx.rows) {
		r := p.mx.rows[p.row]
		verb := "other verbs"
		var c cell
		if p.col < len(matrixVerbs) {
			verb = matrixVerbs[p.col]
		}
		c = r.cells[p.col]
		if p.col == len(matrixVerbs) && len(r.other) > 0 {
			verb = strings.Join(r.other, ",")
		}
		state := "denied"
		switch c.state {
		case allowed:
			state = "allowed"
		case namedOnly:
			state = "allowed on named objects only"
		}
		title := fmt.Sprintf("%s %s %s: %s", verb, r.label, inScope(p.mx.scope), state)
		b.WriteString("\n" + provenance(st, title, c.paths) + "\n")
	}
	return b.String()
}

func inScope(s string) string {
	if s == "" {
		return "cluster-wide"
	}
	return "in " + s
}

func labels(d *Data, groups []string) []string {
	out := make([]string, len(groups))
	for i, g := range groups {
		out[i] = d.Names.Label(g)
	}
	return out
}

func (p *subjectsPage) renderMatrix() string {
	st := p.c.Styles
	w := 0
	for _, r := range p.mx.rows {
		w = max(w, ansi.StringWidth(r.label))
	}
	w = min(w, max(p.lay.detailW-len(matrixVerbs)*5-6, 12))
	var b strings.Builder
	b.WriteString(st.Header.Render(padRight("RESOURCE", w)))
	for i, t := range matrixVerbTitles {
		h := " " + padRight(t, 4)
		if len(t) > 4 {
			h = " " + t[:4]
		}
		if p.focus && i == p.col {
			h = st.Bold.Render(h)
		}
		b.WriteString(h)
	}
	b.WriteString(" other\n")
	for ri, r := range p.mx.rows {
		label := padRight(ansi.Truncate(r.label, w, "…"), w)
		if p.focus && ri == p.row {
			label = st.Bold.Render(label)
		}
		b.WriteString(label)
		for ci := range matrixVerbs {
			b.WriteString(" " + p.cellText(r.cells[ci], ri, ci, "  ✓ ", "  ~ ", "  · "))
		}
		other := strings.Join(r.other, ",")
		if other == "" {
			other = "·"
		}
		last := r.cells[len(matrixVerbs)]
		b.WriteString(" " + p.cellText(last, ri, len(matrixVerbs), other, other, other) + "\n")
	}
	b.WriteString(st.Muted.Render("✓ allowed  ~ only on named objects  · not granted"))
	return b.String()
}

func (p *subjectsPage) cellText(c cell, ri, ci int, yes, named, no string) string {
	st := p.c.Styles
	var s string
	switch c.state {
	case allowed:
		s = st.Allowed.Render(yes)
	case namedOnly:
		s = st.Named.Render(named)
	default:
		s = st.Muted.Render(no)
	}
	if p.focus && ri == p.row && ci == p.col {
		text := no
		switch c.state {
		case allowed:
			text = yes
		case namedOnly:
			text = named
		}
		// Brackets mark the cell where reverse video does not show.
		t := strings.TrimSpace(text)
		s = st.Cell.Render(padRight(" ["+t+"]", ansi.StringWidth(text)))
	}
	return s
}

func (p *subjectsPage) view() string {
	body := p.lay.join(p.c.Styles, p.list.view(), p.detail.view(), p.focus)
	return p.filter.view(p.c.Styles) + "\n" + body
}
