package tui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/kubectl-access/kubectl-access/rbac"
)

// rolesPage browses Roles, ClusterRoles and their bindings: for a role its
// rules (aggregated ones as the authorizer reads them) and who holds it
// through which binding.
type rolesPage struct {
	c      *Common
	data   *Data
	list   *list
	filter filterBar
	detail detailPane
	lay    split
	focus  bool
	roles  []rbac.RoleView
	holds  map[rbac.ObjectRef][]rbac.BindingView
	shown  int
}

func newRolesPage(c *Common) *rolesPage {
	p := &rolesPage{c: c, filter: newFilterBar(), detail: newDetailPane(true), shown: -1}
	p.list = newList(c.Styles,
		column{title: "KIND", width: 11},
		column{title: "NAME", flex: true},
		column{title: "NAMESPACE", width: 12},
		column{title: "RULES", width: 5},
		column{title: "BIND", width: 4},
	)
	return p
}

func (p *rolesPage) title() string { return "Roles & bindings" }

func (p *rolesPage) typing() bool { return p.filter.active }

func (p *rolesPage) setData(d *Data) {
	p.data = d
	p.roles = d.Index.Roles()
	p.holds = map[rbac.ObjectRef][]rbac.BindingView{}
	for _, b := range d.Index.Bindings() {
		p.holds[b.Role] = append(p.holds[b.Role], b)
	}
	rows := make([]row, 0, len(p.roles)+len(p.holds))
	for _, r := range p.roles {
		rows = append(rows, row{
			cells:  []string{r.Ref.Kind, r.Ref.Name, r.Ref.Namespace, itoa(len(r.Rules)), itoa(len(p.holds[r.Ref]))},
			search: strings.ToLower(r.Ref.Kind + " " + r.Ref.Name + " " + r.Ref.Namespace),
			fields: map[string]string{"kind": strings.ToLower(r.Ref.Kind), "ns": r.Ref.Namespace, "name": strings.ToLower(r.Ref.Name)},
		})
	}
	p.list.setRows(rows)
	p.shown = -1
	p.sync()
}

func (p *rolesPage) setSize(w, h int) {
	p.lay = layout(w, h-1)
	p.list.setSize(p.lay.listW, p.lay.listH)
	p.detail.setSize(p.lay.detailW, p.lay.detailH)
	p.shown = -1
	p.sync()
}

func (p *rolesPage) help() []key.Binding {
	k := p.c.Keys
	if p.focus {
		return []key.Binding{k.Up, k.Down, k.Back}
	}
	return []key.Binding{k.Up, k.Down, k.Filter, k.Enter}
}

func (p *rolesPage) status() string { return "roles " + p.list.position() }

func (p *rolesPage) update(msg tea.Msg) tea.Cmd {
	k := p.c.Keys
	if p.filter.active {
		changed, cmd := p.filter.update(msg, k)
		if changed {
			p.list.setFilter(p.filter.value())
			p.sync()
		}
		return cmd
	}
	if km, ok := msg.(tea.KeyPressMsg); ok {
		switch {
		case key.Matches(km, k.Filter) && !p.focus:
			return p.filter.open()
		case key.Matches(km, k.Enter), key.Matches(km, k.Right):
			p.focus, p.list.focused = true, false
			return nil
		case key.Matches(km, k.Back), key.Matches(km, k.Left):
			p.focus, p.list.focused = false, true
			return nil
		}
	}
	if p.focus {
		p.detail.update(msg, k)
		return nil
	}
	if p.list.update(msg, k) {
		p.sync()
	}
	return nil
}

func (p *rolesPage) sync() {
	if p.data == nil {
		return
	}
	i, ok := p.list.selected()
	if !ok {
		p.detail.setContent(p.c.Styles.Muted.Render("no role selected"), true)
		return
	}
	if i == p.shown {
		return
	}
	p.shown = i
	st, names := p.c.Styles, p.data.Names
	r := p.roles[i]
	var b strings.Builder
	b.WriteString(st.Bold.Render(r.Ref.String()) + "\n\n" + st.Bold.Render("Rules") + "\n")
	if len(r.Rules) == 0 {
		b.WriteString(st.Muted.Render("  none (an aggregated role whose sources grant nothing yet, or an empty role)") + "\n")
	}
	for _, rule := range r.Rules {
		b.WriteString("  " + rbac.RuleString(rule) + "\n")
	}
	b.WriteString("\n" + st.Bold.Render("Held by") + "\n")
	hs := p.holds[r.Ref]
	if len(hs) == 0 {
		b.WriteString(st.Muted.Render("  no binding references it") + "\n")
	}
	for _, h := range hs {
		b.WriteString("  " + h.Ref.String() + "\n")
		for _, s := range h.Subjects {
			name := s.Name
			if s.Kind == rbac.GroupKind {
				name = names.Label(name)
			}
			ns := ""
			if s.Kind == rbac.ServiceAccountKind {
				ns = " (namespace " + s.Namespace + ")"
				if s.Namespace == "" {
					ns = " (namespace of the binding)"
				}
			}
			b.WriteString("    " + kindWord(s.Kind) + ":" + name + ns + "\n")
		}
	}
	p.detail.setContent(b.String(), true)
}

func (p *rolesPage) view() string {
	return p.filter.view(p.c.Styles) + "\n" + p.lay.join(p.c.Styles, p.list.view(), p.detail.view(), p.focus)
}
