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
	deps  *deps
	dirty bool
	// yaml (v) shows the object's YAML (object) instead of the detail.
	yaml   bool
	object objectView
	// links are what the detail can go to; link is the one marked;
	// relink renders the same item again with the mark moved.
	links  []jumpMsg
	link   int
	relink bool
}

// roleItem is one row: a role, or a binding (binding set).
type roleItem struct {
	ref     rbac.ObjectRef
	rules   []rbacv1.PolicyRule
	holds   []rbac.BindingView // a role's bindings
	binding *rbac.BindingView  // a binding's own view
}

func newRolesPage(c *Common, d *deps) *rolesPage {
	p := &rolesPage{shown: -1, deps: d}
	p.listPage = newListPage(c, true,
		column{title: "KIND", width: 18},
		column{title: "NAME", flex: true},
		column{title: "NAMESPACE", width: 14},
		column{title: "RULES", width: 5},
		column{title: "SUBJECTS", width: 8, short: "SUBJ"},
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
	roles := s.Roles()
	rulesOf := make(map[rbac.ObjectRef][]rbacv1.PolicyRule, len(roles))
	for _, r := range roles {
		rulesOf[r.Ref] = r.Rules
	}
	bindings := s.Bindings()
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
	switch {
	case p.filter.active:
		return p.filterKeys()
	case p.focus && p.yaml:
		return p.detailKeys(0, 0, as(k.YAML, "back to the detail"))
	case p.focus:
		return p.detailKeys(len(p.links), p.link, k.YAML)
	}
	return p.listKeys(k.YAML)
}

func (p *rolesPage) mode() string {
	if p.focus && p.yaml {
		return "YAML"
	}
	return p.listPage.mode()
}

func (p *rolesPage) status() string {
	s := "roles and bindings " + p.list.position()
	if l := p.list.legend(); l != "" {
		s += "  (" + l + ")"
	}
	return s
}

func (p *rolesPage) update(msg tea.Msg) tea.Cmd {
	k := p.c.Keys
	if o, ok := msg.(objectMsg); ok {
		if p.object.ref == o.ref {
			p.object.msg = &o
			p.shown = -1
			p.syncDetail()
		}
		return nil
	}
	if km, ok := msg.(tea.KeyPressMsg); ok && !p.filter.active {
		if key.Matches(km, k.YAML) {
			p.yaml = !p.yaml
			p.object = objectView{} // read again: v shows the object as it is now
			p.shown = -1
			p.syncDetail()
			return p.fetchYAML()
		}
		// The marked role, binding or subject on its page.
		if p.focus && !p.yaml {
			if cmd, moved, handled := linkKeys(km, k, p.links, &p.link); handled {
				if moved {
					p.relink = true
					p.syncDetail()
				}
				return cmd
			}
		}
	}
	// Focus may move: the mark is drawn only while the detail has it.
	p.relink = true
	cmd, _ := p.handle(msg)
	if p.yaml {
		return tea.Batch(cmd, p.fetchYAML())
	}
	return cmd
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
	if i == p.shown && !p.relink {
		return
	}
	top := i != p.shown
	if top {
		p.link = 0
	}
	p.shown, p.relink = i, false
	st := p.c.Styles
	it := &p.items[i]
	if p.yaml {
		p.detail.setContent(p.object.render(st), true)
		return
	}
	// The roles, bindings and subjects named are links: in the detail,
	// up and down mark one and enter goes to it.
	sel := -1
	if p.focus {
		sel = p.link
	}
	p.links = nil
	link := func(text string, j jumpMsg) string {
		n := len(p.links)
		p.links = append(p.links, j)
		if n == sel {
			return st.Bold.Render("› " + text)
		}
		return text
	}
	var b strings.Builder
	b.WriteString(st.Bold.Render(safe.Terminal(it.ref.String())) + "\n\n")
	if bv := it.binding; bv != nil {
		role := safe.Terminal(bv.Role.String())
		if !bv.RoleFound {
			role = st.Error.Render(role + ": does not exist (a dangling binding grants nothing until someone creates it)")
		} else {
			r := bv.Role
			role = link(role, jumpMsg{ref: &r})
		}
		b.WriteString(st.Bold.Render("Grants") + " " + role + "\n" + st.Bold.Render("to") + "\n")
		p.writeSubjects(&b, bv, "  ", link)
	} else {
		b.WriteString(st.Bold.Render("Held by") + "\n")
		if len(it.holds) == 0 {
			b.WriteString(st.Muted.Render("  no binding references it") + "\n")
		}
		for _, h := range it.holds {
			r := h.Ref
			b.WriteString("  " + link(safe.Terminal(h.Ref.String()), jumpMsg{ref: &r}) + "\n")
			p.writeSubjects(&b, &h, "    ", link)
		}
	}
	b.WriteString("\n" + st.Bold.Render("Rules") + "\n")
	if len(it.rules) == 0 {
		b.WriteString(st.Muted.Render("  none (an aggregated role whose sources grant nothing yet, an empty role, or no role)") + "\n")
	}
	for _, rule := range it.rules {
		b.WriteString("  " + safe.Terminal(rbac.RuleString(rule)) + "\n")
	}
	if p.focus && len(p.links) > 0 {
		b.WriteString("\n" + st.Muted.Render("↑↓ choose, enter: go to it (esc comes back)") + "\n")
	}
	p.detail.setContent(b.String(), top)
	if p.focus {
		scrollToMark(&p.detail, b.String())
	}
}

func (p *rolesPage) writeSubjects(b *strings.Builder, bv *rbac.BindingView, indent string, link func(string, jumpMsg) string) {
	subs := bv.Subjects
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
		text := safe.Terminal(kindWord(s.Kind) + ":" + name + ns)
		if sub, ok := rbac.BindingSubject(s, bv.Ref.Namespace); ok {
			text = link(text, jumpMsg{subject: &sub})
		}
		b.WriteString(indent + text + "\n")
	}
}

// fetchYAML reads the selected object's YAML when v is on, once per
// object.
func (p *rolesPage) fetchYAML() tea.Cmd {
	i, ok := p.list.selected()
	if !p.yaml || !ok || p.sess == nil {
		return nil
	}
	ref := p.items[i].ref
	if p.object.ref == ref {
		return nil // read, or being read
	}
	p.object = objectView{ref: ref}
	p.shown = -1
	p.syncDetail()
	return fetch(p.sess, p.deps.ctx, ref)
}

// Navigation: what a jump to this page, and back from it, asks of it.

// show selects the role or binding ref.
func (p *rolesPage) show(ref rbac.ObjectRef) bool {
	p.build()
	p.setFocus(false)
	p.shown = -1
	for i := range p.items {
		if p.items[i].ref.Kind == ref.Kind && p.items[i].ref.Name == ref.Name && p.items[i].ref.Namespace == ref.Namespace {
			ok := p.selectKeepingFilter(i)
			p.syncDetail()
			return ok
		}
	}
	p.syncDetail()
	return false
}

// here is the role or binding selected, to come back to.
func (p *rolesPage) here() *jumpMsg {
	if i, ok := p.list.selected(); ok && i < len(p.items) {
		r := p.items[i].ref
		return &jumpMsg{ref: &r}
	}
	return nil
}
