package tui

import (
	"fmt"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"sigs.k8s.io/yaml"

	"github.com/kubectl-access/kubectl-access/internal/safe"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// Cross-navigation: from a path's subject, binding or role, enter shows
// that object on its page (jumpMsg) and esc comes back; v shows an
// object's YAML as it was read (the cluster's, less managedFields, or the
// file's).

// goTo is enter's help where it jumps.
var goTo = key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "go to"))

func jumpToSubject(s rbac.Subject) tea.Cmd {
	return func() tea.Msg { return jumpMsg{subject: &s} }
}

func jumpToRef(r rbac.ObjectRef) tea.Cmd {
	return func() tea.Msg { return jumpMsg{ref: &r} }
}

// selectRow puts the cursor on row i (the filter cleared by the caller),
// and says whether it is listed.
func (l *list) selectRow(i int) bool {
	for pos, r := range l.match {
		if r == i {
			l.cursor = pos
			l.offset = max(0, min(pos-l.visible()/2, len(l.match)-l.visible()))
			return true
		}
	}
	return false
}

// show selects subject s, the filter cleared and the list focused.
func (p *subjectsPage) show(s rbac.Subject) bool {
	p.build()
	p.filter.clear()
	p.list.setFilter("")
	p.setFocus(false)
	for i := range p.subs {
		if subjectKeyOf(p.subs[i].s) == subjectKeyOf(rbac.Subject{Kind: s.Kind, Namespace: s.Namespace, Name: s.Name}) {
			ok := p.list.selectRow(i)
			p.syncDetail()
			return ok
		}
	}
	p.syncDetail()
	return false
}

// show selects the role or binding ref.
func (p *rolesPage) show(ref rbac.ObjectRef) bool {
	p.build()
	p.filter.clear()
	p.list.setFilter("")
	p.setFocus(false)
	p.shown = -1
	for i := range p.items {
		if p.items[i].ref.Kind == ref.Kind && p.items[i].ref.Name == ref.Name && p.items[i].ref.Namespace == ref.Namespace {
			ok := p.list.selectRow(i)
			p.syncDetail()
			return ok
		}
	}
	p.syncDetail()
	return false
}

// atTop says the page has nothing of its own to step back from: esc may
// return to the page a jump came from.
func (lp *listPage) atTop() bool {
	return !lp.focus && !lp.filter.active && lp.filter.value() == ""
}

func (p *whoCanPage) atTop() bool { return !p.focus && !p.input.Focused() }

func (p *findingsPage) atTop() bool { return p.listPage.atTop() && !p.flow.active() }

// objectYAML is an object of the snapshot as YAML.
func objectYAML(snap *rbac.Snapshot, ref rbac.ObjectRef) (string, bool) {
	var obj any
	switch ref.Kind {
	case "Role":
		for i := range snap.Roles {
			if r := &snap.Roles[i]; r.Name == ref.Name && r.Namespace == ref.Namespace {
				obj = r
			}
		}
	case "ClusterRole":
		for i := range snap.ClusterRoles {
			if r := &snap.ClusterRoles[i]; r.Name == ref.Name {
				obj = r
			}
		}
	case "RoleBinding":
		for i := range snap.RoleBindings {
			if r := &snap.RoleBindings[i]; r.Name == ref.Name && r.Namespace == ref.Namespace {
				obj = r
			}
		}
	case "ClusterRoleBinding":
		for i := range snap.ClusterRoleBindings {
			if r := &snap.ClusterRoleBindings[i]; r.Name == ref.Name {
				obj = r
			}
		}
	case "ServiceAccount":
		for i := range snap.ServiceAccounts {
			if r := &snap.ServiceAccounts[i]; r.Name == ref.Name && r.Namespace == ref.Namespace {
				obj = r
			}
		}
	}
	if obj == nil {
		return "", false
	}
	b, err := yaml.Marshal(obj)
	if err != nil {
		return "", false
	}
	return string(b), true
}

// yamlView renders an object's YAML for a detail pane, or says why there
// is none.
func yamlView(st *Styles, snap *rbac.Snapshot, ref rbac.ObjectRef) string {
	y, ok := objectYAML(snap, ref)
	if !ok {
		return st.Muted.Render(safe.Terminal(fmt.Sprintf("%s is not in what was read (one of Kubernetes' default roles taken from its policy, or not read)", ref)))
	}
	return st.Bold.Render(safe.Terminal(ref.String())+" as read (v: back to the detail)") + "\n\n" + safe.Lines(y)
}
