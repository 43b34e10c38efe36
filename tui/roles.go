package tui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/kubectl-access/kubectl-access/access"
	"github.com/kubectl-access/kubectl-access/identity"
	"github.com/kubectl-access/kubectl-access/internal/safe"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// rolesPage browses Roles, ClusterRoles and their bindings: for a role its
// rules (aggregated ones as the authorizer reads them) and who holds it
// through which binding.
type rolesPage struct {
	listPage
	names identity.Names
	roles []rbac.RoleView
	holds map[rbac.ObjectRef][]rbac.BindingView
	shown int
	sess  *access.Session
	dirty bool
}

func newRolesPage(c *Common) *rolesPage {
	p := &rolesPage{shown: -1}
	p.listPage = newListPage(c, true,
		column{title: "KIND", width: 11},
		column{title: "NAME", flex: true},
		column{title: "NAMESPACE", width: 12},
		column{title: "RULES", width: 5},
		column{title: "BIND", width: 4},
	)
	p.sync = func(bool) { p.syncDetail() }
	return p
}

func (p *rolesPage) title() string  { return "Roles & bindings" }
func (p *rolesPage) badge() string  { return "" }
func (p *rolesPage) enter() tea.Cmd { return nil }

func (p *rolesPage) setSession(s *access.Session) {
	p.sess, p.names, p.dirty = s, s.App.Names, true
}

func (p *rolesPage) audited() {}

func (p *rolesPage) build() {
	if !p.dirty || p.sess == nil {
		return
	}
	p.dirty = false
	s := p.sess
	p.roles = s.Index.Roles()
	p.holds = map[rbac.ObjectRef][]rbac.BindingView{}
	for _, b := range s.Index.Bindings() {
		p.holds[b.Role] = append(p.holds[b.Role], b)
	}
	rows := make([]row, 0, len(p.roles)+len(p.holds))
	for _, r := range p.roles {
		rows = append(rows, row{
			cells:  []string{r.Ref.Kind, safe.Terminal(r.Ref.Name), safe.Terminal(r.Ref.Namespace), itoa(len(r.Rules)), itoa(len(p.holds[r.Ref]))},
			search: strings.ToLower(r.Ref.Kind + " " + r.Ref.Name + " " + r.Ref.Namespace),
			fields: map[string]string{"kind": strings.ToLower(r.Ref.Kind), "ns": r.Ref.Namespace, "name": strings.ToLower(r.Ref.Name)},
		})
	}
	p.list.setRows(rows)
	p.shown = -1
	p.syncDetail()
}

func (p *rolesPage) setSize(w, h int) {
	p.resize(w, h)
	p.shown = -1
	p.syncDetail()
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
	cmd, _ := p.handle(msg)
	return cmd
}

func (p *rolesPage) syncDetail() {
	if p.roles == nil {
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
	st, names := p.c.Styles, p.names
	r := p.roles[i]
	var b strings.Builder
	b.WriteString(st.Bold.Render(safe.Terminal(r.Ref.String())) + "\n\n" + st.Bold.Render("Rules") + "\n")
	if len(r.Rules) == 0 {
		b.WriteString(st.Muted.Render("  none (an aggregated role whose sources grant nothing yet, or an empty role)") + "\n")
	}
	for _, rule := range r.Rules {
		b.WriteString("  " + safe.Terminal(rbac.RuleString(rule)) + "\n")
	}
	b.WriteString("\n" + st.Bold.Render("Held by") + "\n")
	hs := p.holds[r.Ref]
	if len(hs) == 0 {
		b.WriteString(st.Muted.Render("  no binding references it") + "\n")
	}
	for _, h := range hs {
		b.WriteString("  " + safe.Terminal(h.Ref.String()) + "\n")
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
			b.WriteString("    " + safe.Terminal(kindWord(s.Kind)+":"+name+ns) + "\n")
		}
	}
	p.detail.setContent(b.String(), true)
}
