package tui

import (
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/kubectl-access/kubectl-access/access"
	"github.com/kubectl-access/kubectl-access/identity"
	"github.com/kubectl-access/kubectl-access/internal/safe"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// rolesPage lists Roles, ClusterRoles and their bindings, each a row: for
// a role who holds it (through which binding) and its rules, as the
// authorizer reads them; for a binding its subjects and its role's rules,
// or that the role does not exist. The filter answers "which roles grant
// pods/exec, and who holds them": verb:, res:, group: match rules as the
// authorizer would (a "*" rule matches any), subject: the holders.
type rolesPage struct {
	listPage
	names identity.Names
	items []roleItem
	shown int
	sess  *access.Session
	dirty bool
	// yaml (v) shows the object as read instead of the detail.
	yaml bool
}

// roleItem is one row: a role, or a binding (binding set).
type roleItem struct {
	ref     rbac.ObjectRef
	rules   []rbacv1.PolicyRule
	holds   []rbac.BindingView // a role's bindings
	binding *rbac.BindingView  // a binding's own view
}

func newRolesPage(c *Common) *rolesPage {
	p := &rolesPage{shown: -1}
	p.listPage = newListPage(c, true,
		column{title: "KIND", width: 18},
		column{title: "NAME", flex: true},
		column{title: "NAMESPACE", width: 14},
		column{title: "RULES", width: 5},
		column{title: "SUBJ", width: 4},
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
	roles := s.Index.Roles()
	rulesOf := make(map[rbac.ObjectRef][]rbacv1.PolicyRule, len(roles))
	for _, r := range roles {
		rulesOf[r.Ref] = r.Rules
	}
	bindings := s.Index.Bindings()
	holds := map[rbac.ObjectRef][]rbac.BindingView{}
	for _, b := range bindings {
		holds[b.Role] = append(holds[b.Role], b)
	}
	p.items = make([]roleItem, 0, len(roles)+len(bindings))
	for _, r := range roles {
		p.items = append(p.items, roleItem{ref: r.Ref, rules: r.Rules, holds: holds[r.Ref]})
	}
	for i := range bindings {
		b := &bindings[i]
		p.items = append(p.items, roleItem{ref: b.Ref, rules: rulesOf[b.Role], binding: b})
	}
	rows := make([]row, len(p.items))
	for i := range p.items {
		rows[i] = p.row(&p.items[i])
	}
	p.list.setRows(rows)
	p.shown = -1
	p.syncDetail()
}

// subjects are the subjects an item grants to.
func (it *roleItem) subjects() []rbacv1.Subject {
	if it.binding != nil {
		return it.binding.Subjects
	}
	var out []rbacv1.Subject
	for _, h := range it.holds {
		out = append(out, h.Subjects...)
	}
	return out
}

func (p *rolesPage) row(it *roleItem) row {
	name := it.ref.Name
	if it.binding != nil && !it.binding.RoleFound {
		name += "  (dangling: no " + it.binding.Role.Kind + " " + it.binding.Role.Name + ")"
	}
	subs := it.subjects()
	var who []string
	for _, s := range subs {
		n := s.Name
		if s.Kind == rbac.GroupKind {
			n = n + " " + p.names[s.Name]
		}
		who = append(who, strings.ToLower(kindWord(s.Kind)+":"+n))
	}
	var rules []string
	for _, r := range it.rules {
		rules = append(rules, strings.ToLower(rbac.RuleString(r)))
	}
	subjects := strings.Join(who, " ")
	return row{
		cells:  []string{it.ref.Kind, safe.Terminal(name), safe.Terminal(it.ref.Namespace), itoa(len(it.rules)), itoa(len(subs))},
		search: strings.ToLower(it.ref.Kind+" "+name+" "+it.ref.Namespace+" ") + subjects + " " + strings.Join(rules, " "),
		fields: map[string]string{"kind": strings.ToLower(it.ref.Kind), "ns": strings.ToLower(it.ref.Namespace), "name": strings.ToLower(it.ref.Name)},
		test: func(k, v string) (bool, bool) {
			switch k {
			case "verb", "res", "resource", "group":
				return slices.ContainsFunc(it.rules, func(r rbacv1.PolicyRule) bool { return ruleTerm(&r, k, v) }), true
			case "subject", "sub", "who":
				return strings.Contains(subjects, v), true
			}
			return false, false
		},
	}
}

// ruleTerm says whether a rule matches a filter term as the authorizer
// would match a request: a "*" verb, resource or group matches any, and
// "pods/*" any subresource of pods. While the word is being typed, a rule
// naming a word it begins (res:pod) matches too.
func ruleTerm(r *rbacv1.PolicyRule, k, v string) bool {
	if v == "" {
		return true
	}
	switch k {
	case "verb":
		return slices.ContainsFunc(r.Verbs, func(x string) bool { return x == "*" || strings.HasPrefix(strings.ToLower(x), v) })
	case "group":
		return slices.ContainsFunc(r.APIGroups, func(x string) bool { return x == "*" || strings.HasPrefix(strings.ToLower(x), v) }) ||
			(v == "core" && slices.Contains(r.APIGroups, ""))
	}
	res, sub, hasSub := strings.Cut(v, "/")
	return slices.ContainsFunc(r.Resources, func(x string) bool {
		x = strings.ToLower(x)
		if x == "*" || strings.HasPrefix(x, v) {
			return true
		}
		xr, xs, xHasSub := strings.Cut(x, "/")
		switch {
		case !hasSub || !xHasSub:
			return false
		case xr == res && xs == "*":
			return true // pods/* holds pods/exec
		case xr == "*" && xs == sub:
			return true // */scale holds deployments/scale
		}
		return false
	})
}

func (p *rolesPage) setSize(w, h int) {
	p.resize(w, h)
	p.shown = -1
	p.syncDetail()
}

func (p *rolesPage) help() []key.Binding {
	k := p.c.Keys
	if p.focus {
		return []key.Binding{k.Up, k.Down, goTo, k.Back, k.YAML, k.Filter}
	}
	return []key.Binding{k.Up, k.Down, k.Filter, k.Enter, k.YAML}
}

func (p *rolesPage) status() string { return "roles and bindings " + p.list.position() }

func (p *rolesPage) update(msg tea.Msg) tea.Cmd {
	k := p.c.Keys
	if km, ok := msg.(tea.KeyPressMsg); ok && !p.filter.active {
		switch {
		case key.Matches(km, k.YAML):
			p.yaml = !p.yaml
			p.shown = -1
			p.syncDetail()
			return nil
		case key.Matches(km, k.Enter) && p.focus:
			// A binding's role, else the role's first holder.
			if i, ok := p.list.selected(); ok {
				it := &p.items[i]
				if it.binding != nil && it.binding.RoleFound {
					return jumpToRef(it.binding.Role)
				}
				for _, s := range it.subjects() {
					if sub, ok := subjectFromRBAC(s, it); ok {
						return jumpToSubject(sub)
					}
				}
			}
			return nil
		}
	}
	cmd, _ := p.handle(msg)
	return cmd
}

// subjectFromRBAC reads a binding's subject as the authorizer does (a
// service account without a namespace is in the binding's).
func subjectFromRBAC(s rbacv1.Subject, it *roleItem) (rbac.Subject, bool) {
	switch s.Kind {
	case rbacv1.UserKind, rbacv1.GroupKind:
		return rbac.Subject{Kind: s.Kind, Name: s.Name}, true
	case rbacv1.ServiceAccountKind:
		ns := s.Namespace
		if ns == "" && it.binding != nil {
			ns = it.binding.Ref.Namespace
		}
		if ns == "" && len(it.holds) > 0 {
			ns = it.holds[0].Ref.Namespace
		}
		return rbac.Subject{Kind: s.Kind, Name: s.Name, Namespace: ns}, ns != ""
	}
	return rbac.Subject{}, false
}

func (p *rolesPage) syncDetail() {
	if p.items == nil {
		return
	}
	i, ok := p.list.selected()
	if !ok {
		p.detail.setContent(p.c.Styles.Muted.Render("nothing matches"), true)
		return
	}
	if i == p.shown {
		return
	}
	p.shown = i
	st := p.c.Styles
	it := &p.items[i]
	if p.yaml {
		p.detail.setContent(yamlView(st, p.sess.Index.Snapshot(), it.ref), true)
		return
	}
	var b strings.Builder
	b.WriteString(st.Bold.Render(safe.Terminal(it.ref.String())) + "\n\n")
	if bv := it.binding; bv != nil {
		role := safe.Terminal(bv.Role.String())
		if !bv.RoleFound {
			role = st.Error.Render(role + ": does not exist (a dangling binding grants nothing until someone creates it)")
		}
		b.WriteString(st.Bold.Render("Grants") + " " + role + "\n" + st.Bold.Render("to") + "\n")
		p.writeSubjects(&b, bv.Subjects, "  ")
	} else {
		b.WriteString(st.Bold.Render("Held by") + "\n")
		if len(it.holds) == 0 {
			b.WriteString(st.Muted.Render("  no binding references it") + "\n")
		}
		for _, h := range it.holds {
			b.WriteString("  " + safe.Terminal(h.Ref.String()) + "\n")
			p.writeSubjects(&b, h.Subjects, "    ")
		}
	}
	b.WriteString("\n" + st.Bold.Render("Rules") + "\n")
	if len(it.rules) == 0 {
		b.WriteString(st.Muted.Render("  none (an aggregated role whose sources grant nothing yet, an empty role, or no role)") + "\n")
	}
	for _, rule := range it.rules {
		b.WriteString("  " + safe.Terminal(rbac.RuleString(rule)) + "\n")
	}
	p.detail.setContent(b.String(), true)
}

func (p *rolesPage) writeSubjects(b *strings.Builder, subs []rbacv1.Subject, indent string) {
	if len(subs) == 0 {
		b.WriteString(indent + p.c.Styles.Muted.Render("no subjects") + "\n")
	}
	for _, s := range subs {
		name := s.Name
		if s.Kind == rbac.GroupKind {
			name = p.names.Label(name)
		}
		ns := ""
		if s.Kind == rbac.ServiceAccountKind {
			ns = " (namespace " + s.Namespace + ")"
			if s.Namespace == "" {
				ns = " (namespace of the binding)"
			}
		}
		b.WriteString(indent + safe.Terminal(kindWord(s.Kind)+":"+name+ns) + "\n")
	}
}
