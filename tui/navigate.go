package tui

import (
	"context"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/kubectl-access/kubectl-access/access"
	"github.com/kubectl-access/kubectl-access/internal/safe"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// Cross-navigation: from a path's subject, binding or role, enter shows
// that object on its page (jumpMsg) and esc comes back; v shows an
// object's YAML as it was read (the cluster's, less managedFields, or the
// file's). What is shared lives here; each page's own part of it (show,
// here, atTop) lives in the page's file, under "Navigation".

// goTo is enter's help where it jumps.
var goTo = key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "go to"))

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

// selectKeepingFilter selects row i, clearing the filter only when it
// hides the row.
func (lp *listPage) selectKeepingFilter(i int) bool {
	if lp.list.selectRow(i) {
		return true
	}
	lp.filter.clear()
	lp.list.setFilter("")
	return lp.list.selectRow(i)
}

// atTop says the page has nothing of its own to step back from: esc may
// return to the page a jump came from.
func (lp *listPage) atTop() bool {
	return !lp.focus && !lp.filter.active && lp.filter.value() == ""
}

// objectView holds the YAML v shows: fetched off the UI goroutine (a GET
// live, the file's object offline) for ref.
type objectView struct {
	ref rbac.ObjectRef
	msg *objectMsg // nil while it is being read
}

// fetch asks for ref's YAML.
func fetch(sess *access.Session, ctx context.Context, ref rbac.ObjectRef) tea.Cmd {
	return func() tea.Msg {
		text, origin, err := sess.ObjectYAML(ctx, ref)
		return objectMsg{ref: ref, text: text, origin: origin, err: err}
	}
}

// render draws the object's YAML, or that it is being read, or why not.
func (o *objectView) render(st *Styles) string {
	head := st.Bold.Render(safe.Terminal(o.ref.String()))
	switch {
	case o.msg == nil:
		return head + "\n\n" + st.Muted.Render("reading…")
	case o.msg.err != nil:
		return head + "\n\n" + st.Error.Render("cannot show it: "+safe.Error(o.msg.err))
	}
	return head + " " + st.Muted.Render(safe.Terminal(o.msg.origin)+" (v: back to the detail)") + "\n\n" + safe.Lines(o.msg.text)
}

// linkKeys handles the keys of a detail whose objects are links: up and
// down move the mark (at, among n), enter goes to the marked one. handled
// says the key was one of them; moved, that the mark moved.
func linkKeys(km tea.KeyPressMsg, k *KeyMap, links []jumpMsg, at *int) (cmd tea.Cmd, moved, handled bool) {
	switch {
	case key.Matches(km, k.Enter):
		if *at < len(links) {
			j := links[*at]
			return func() tea.Msg { return j }, false, true
		}
		return nil, false, true
	case len(links) > 1 && key.Matches(km, k.Up):
		*at = max(*at-1, 0)
		return nil, true, true
	case len(links) > 1 && key.Matches(km, k.Down):
		*at = min(*at+1, len(links)-1)
		return nil, true, true
	}
	return nil, false, false
}

// scrollToMark keeps the marked line ("› ") of text in the pane's view.
func scrollToMark(d *detailPane, text string) {
	for n, l := range strings.Split(text, "\n") {
		if strings.Contains(l, "› ") {
			d.vp.EnsureVisible(n, 0, 0)
			return
		}
	}
}

// linkYAML is v on a detail whose objects are links: the marked one's
// YAML as it is now (a service account for a subject that is one), shown
// in place of the detail until v again.
type linkYAML struct {
	on     bool
	object objectView
	// none says why the marked link has no object to show.
	none string
}

// toggle shows the marked link's object, or goes back to the detail.
func (y *linkYAML) toggle(sess *access.Session, ctx context.Context, links []jumpMsg, at int) tea.Cmd {
	if y.on || at >= len(links) {
		y.on = false
		return nil
	}
	y.on, y.none, y.object = true, "", objectView{}
	l := links[at]
	switch {
	case l.ref != nil:
		y.object.ref = *l.ref
	case l.subject != nil && l.subject.Kind == rbac.ServiceAccountKind:
		y.object.ref = rbac.ObjectRef{APIVersion: "v1", Kind: "ServiceAccount", Name: l.subject.Name, Namespace: l.subject.Namespace}
	case l.subject != nil:
		y.none = safe.Terminal(l.subject.String()) + ": users and groups are no objects in the cluster; only bindings name them (v: back)"
		return nil
	default:
		y.on = false
		return nil
	}
	return fetch(sess, ctx, y.object.ref)
}

// take keeps an object read for it; false when it is not the one shown.
func (y *linkYAML) take(o objectMsg) bool {
	if !y.on || y.object.ref != o.ref {
		return false
	}
	y.object.msg = &o
	return true
}

// render is what v shows.
func (y *linkYAML) render(st *Styles) string {
	if y.none != "" {
		return st.Muted.Render(y.none)
	}
	return y.object.render(st)
}
