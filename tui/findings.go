package tui

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/kubectl-access/kubectl-access/access"
	"github.com/kubectl-access/kubectl-access/audit"
	"github.com/kubectl-access/kubectl-access/identity"
	"github.com/kubectl-access/kubectl-access/internal/safe"
)

// categories are what `c` cycles through ("" = every category).
// (the catalogue's, so a new family is filterable the day it lands).
var categories = append([]audit.Category{""}, audit.Categories()...)

// findingsPage lists the audit's findings by severity; on one, f shows its
// fix, w writes it, a applies it after a dry run and a confirmation, y
// copies its kubectl commands (each builds the fix first when needed).
type findingsPage struct {
	listPage
	flow     *fixFlow
	sess     *access.Session
	report   *audit.Report // nil until the audit has run
	names    identity.Names
	dirty    bool
	category int
	// hidden counts the findings on the default policy, not listed.
	hidden  int
	shownID string
	shownSt fixState
	// sortBy is the index in findingSorts.
	sortBy int
	// links are what the detail can go to; link is the one marked.
	links   []jumpMsg
	link    int
	linkFor string // the finding link is about
	// yaml (v) shows the marked link's object instead of the detail.
	yaml linkYAML
	// grouping is how the rows group (findings_groups.go).
	grouping findingGrouping
}

func (p *findingsPage) mustCurrent() *audit.Finding {
	f, _ := p.current()
	return f
}

func newFindingsPage(c *Common, d *deps) *findingsPage {
	p := &findingsPage{flow: newFixFlow(c, d)}
	p.listPage = newListPage(c, true,
		column{title: "SEVERITY", width: 8},
		column{title: "RULE", width: 28},
		column{title: "NAMESPACE", width: 14},
		column{title: "FINDING", flex: true},
	)
	p.list.extra = func(r row) bool {
		cat := categories[p.category]
		return cat == "" || r.fields["category"] == string(cat)
	}
	p.sync = p.syncDetail
	return p
}

func (p *findingsPage) title() string  { return "Findings" }
func (p *findingsPage) enter() tea.Cmd { return nil }

func (p *findingsPage) badge() string {
	switch {
	case p.sess == nil:
		return ""
	case p.sess.Audited() == nil:
		return "…" // the audit runs after the first screen
	}
	n := 0
	for i := range p.sess.Audited().Findings {
		if audit.Listed(&p.sess.Audited().Findings[i], false) {
			n++
		}
	}
	return itoa(n)
}

func (p *findingsPage) typing() bool { return p.filter.active }

func (p *findingsPage) setSession(s *access.Session) {
	p.sess, p.report, p.names, p.dirty = s, nil, s.App.Names, true
	p.flow.reset(s)
}

// audited builds the rows now if the page is already built without them.
func (p *findingsPage) audited() {
	if p.report == nil && !p.dirty {
		p.dirty = true
		p.build()
	}
}

func (p *findingsPage) build() {
	if !p.dirty || p.sess == nil {
		return
	}
	p.dirty = false
	p.report = p.sess.Audited()
	if p.report == nil {
		p.list.setRows(nil)
		p.syncDetail(true)
		return
	}
	// The page's own copy, in the order s chose (the session's report is
	// shared).
	// Listed as the CLI's table lists them: findings on Kubernetes'
	// default policy are counted (in the status line), not listed.
	rep := *p.report
	rep.Findings = slices.DeleteFunc(slices.Clone(rep.Findings), func(f audit.Finding) bool { return !audit.Listed(&f, false) })
	p.hidden = len(p.report.Findings) - len(rep.Findings)
	p.report = &rep
	p.sortFindings()
	p.grouping.dflt(len(rep.Findings))
	p.setRows()
}

// findingSorts are what s cycles through on Findings.
var findingSorts = []string{"severity", "namespace", "rule", "subject"}

func (p *findingsPage) sortFindings() {
	subject := func(f *audit.Finding) string {
		if len(f.Subjects) > 0 {
			return f.Subjects[0].String()
		}
		return ""
	}
	bySeverity := func(a, b audit.Finding) int { return cmp.Compare(b.Severity, a.Severity) }
	var f func(a, b audit.Finding) int
	switch findingSorts[p.sortBy] {
	case "namespace":
		f = func(a, b audit.Finding) int {
			return cmp.Or(cmp.Compare(findingNamespace(&a), findingNamespace(&b)), bySeverity(a, b))
		}
	case "rule":
		f = func(a, b audit.Finding) int { return cmp.Or(cmp.Compare(a.Rule, b.Rule), bySeverity(a, b)) }
	case "subject":
		f = func(a, b audit.Finding) int { return cmp.Or(cmp.Compare(subject(&a), subject(&b)), bySeverity(a, b)) }
	default:
		f = bySeverity
	}
	slices.SortStableFunc(p.report.Findings, f)
}

func (p *findingsPage) setRows() {
	if p.grouping.by != "" {
		p.setGroupRows()
		return
	}
	p.grouping.rows = nil
	rows := make([]row, len(p.report.Findings))
	for i := range p.report.Findings {
		rows[i] = p.findingRow(&p.report.Findings[i], "")
	}
	p.list.setRows(rows)
	p.syncDetail(true)
}

// findingRow is a finding's row, its text after indent.
func (p *findingsPage) findingRow(f *audit.Finding, indent string) row {
	sev := f.Severity.String()
	text := p.names.Annotate(f.Title)
	if len(f.Subjects) > 0 {
		text = subjectCell(p.names, f.Subjects[0]) + ": " + text
	}
	switch {
	case f.Default:
		text += " (Kubernetes' default policy)"
	case f.Managed:
		text += " (platform-managed)"
	}
	ns := findingNamespace(f)
	where := ns
	if where == "" {
		where = "cluster-wide"
	}
	return row{
		cells:  []string{p.c.Styles.Severity[f.Severity].Render(sev), f.Rule, safe.Terminal(where), indent + safe.Terminal(text)},
		search: strings.ToLower(f.ID + " " + sev + " " + f.Rule + " " + string(f.Category) + " " + where + " " + text + " " + f.Message),
		fields: map[string]string{"rule": f.Rule, "category": string(f.Category), "cat": string(f.Category), "sev": sev, "severity": sev, "id": f.ID,
			"ns": strings.ToLower(ns), "namespace": strings.ToLower(ns)},
	}
}

// restyle draws the rows again in the styles as they are now.
func (p *findingsPage) restyle() {
	if p.report != nil && !p.dirty {
		p.setRows()
	}
}

func (p *findingsPage) setSize(w, h int) {
	p.resize(w, h)
	p.syncDetail(false)
}

func (p *findingsPage) help() []key.Binding {
	k := p.c.Keys
	fix := []key.Binding{k.Fix, k.Write, k.Apply, k.Copy}
	switch {
	case p.filter.active:
		return p.filterKeys()
	case p.flow.state == fixConfirm:
		return []key.Binding{k.Confirm, k.No, as(k.Copy, "applies nothing: says Y does")}
	case p.flow.state == fixBuilding:
		return []key.Binding{as(k.Back, "back (the fix is still built)")}
	case p.flow.active() && p.flow.busy() != "":
		return nil // a running step: no key changes it
	case p.flow.active():
		top, bottom := p.detail.ends()
		keys := []key.Binding{k.Write, k.Apply, k.Copy, as(k.Back, "back to the finding"), as(k.Left, "to the list"), k.Filter}
		return append(keys, scrollKeys(k, top, bottom)...)
	case p.focus && p.yaml.on:
		return p.detailKeys(0, 0, append([]key.Binding{as(k.YAML, "back to the detail")}, fix...)...)
	case p.focus:
		own := fix
		if len(p.links) > 0 {
			own = append([]key.Binding{k.YAML}, fix...)
		}
		return p.detailKeys(len(p.links), p.link, own...)
	}
	return p.listKeys(append(fix, k.Category, k.Sort, k.Group)...)
}

func (p *findingsPage) mode() string {
	switch {
	case p.flow.state == fixConfirm:
		return "confirming a fix"
	case p.flow.active():
		return "a fix"
	case p.focus && p.yaml.on:
		return "YAML"
	}
	return p.listPage.mode()
}

func (p *findingsPage) status() string {
	s := "findings " + p.list.position() + "  by " + findingSorts[p.sortBy]
	if g := p.grouping.by; g != "" {
		s += "  grouped by " + string(g)
	}
	if c := categories[p.category]; c != "" {
		s += "  category " + string(c)
	}
	if p.hidden > 0 {
		s += "  (" + itoa(p.hidden) + " on Kubernetes' default policy not listed: kubectl access audit --all)"
	}
	if b := p.flow.busy(); b != "" {
		s += "  " + b + "…"
	}
	if p.flow.note != "" {
		s += "  " + safe.Terminal(p.flow.note)
	}
	return s
}

// current is the finding under the cursor.
func (p *findingsPage) current() (*audit.Finding, bool) {
	i, ok := p.list.selected()
	if !ok || p.report == nil {
		return nil, false
	}
	if p.grouping.rows != nil {
		// Grouped: a group's row is no finding.
		if i = p.grouping.rows[i].finding; i < 0 {
			return nil, false
		}
	}
	return &p.report.Findings[i], true
}

func (p *findingsPage) update(msg tea.Msg) tea.Cmd {
	if km, ok := msg.(tea.KeyPressMsg); ok && !p.flow.reloading && (!p.focus || movementOf(km, p.c.Keys) == moveNone) {
		// The last outcome ends with the next action (scrolling the
		// detail that says it is not one).
		if p.flow.note != "" {
			p.flow.note = ""
			defer p.syncDetail(false)
		}
	}
	if cmd, done := p.flow.update(msg); done {
		if p.flow.active() {
			p.setFocus(true)
		}
		p.syncDetail(false)
		return cmd
	}
	k := p.c.Keys
	if o, ok := msg.(objectMsg); ok {
		if p.yaml.take(o) {
			p.syncDetail(false)
		}
		return nil
	}
	if km, ok := msg.(tea.KeyPressMsg); ok && !p.filter.active && p.focus && !p.flow.active() && key.Matches(km, k.YAML) {
		cmd := p.yaml.toggle(p.sess, p.flow.deps.ctx, p.links, p.link)
		p.syncDetail(true)
		return cmd
	}
	if km, ok := msg.(tea.KeyPressMsg); ok && !p.filter.active && p.focus && !p.flow.active() && !p.yaml.on {
		// The marked subject, binding or role on its page.
		if cmd, moved, handled := linkKeys(km, k, p.links, &p.link); handled {
			if moved {
				p.syncDetail(false)
				scrollToMark(&p.detail, p.renderFinding(p.mustCurrent()))
			}
			return cmd
		}
	}
	if km, ok := msg.(tea.KeyPressMsg); ok && !p.filter.active {
		var act fixAction
		isAct := false
		switch {
		case key.Matches(km, k.Fix):
			act, isAct = actShow, true
		case key.Matches(km, k.Write):
			act, isAct = actWrite, true
		case key.Matches(km, k.Apply):
			act, isAct = actApply, true
		case key.Matches(km, k.Copy):
			act, isAct = actCopy, true

		case !p.focus && p.report != nil && p.groupKey(km):
			return nil
		case key.Matches(km, k.Sort) && !p.focus && p.report != nil:
			p.sortBy = (p.sortBy + 1) % len(findingSorts)
			p.sortFindings()
			p.setRows()
			p.list.cursor, p.list.offset = 0, 0
			p.syncDetail(true)
			return nil
		case key.Matches(km, k.Category) && !p.focus:
			p.category = (p.category + 1) % len(categories)
			p.list.refilter(true)
			p.list.clamp()
			p.syncDetail(true)
			return nil
		}
		if isAct {
			f, ok := p.current()
			if !ok || act == actShow && p.flow.active() && p.flow.id == f.ID {
				return nil // f on the fix shown
			}
			cmd := p.flow.start(f, act)
			if p.flow.active() {
				p.setFocus(true)
			}
			p.syncDetail(true)
			return cmd
		}
	}
	cmd, _ := p.handle(msg)
	return cmd
}

// syncDetail renders the detail of the current finding in the flow's
// state.
func (p *findingsPage) syncDetail(top bool) {
	f, ok := p.current()
	if g := p.currentGroup(); g != nil {
		p.detail.setContent(p.renderGroup(g), true)
		return
	}
	if !ok {
		msg := "no findings"
		if p.report == nil {
			msg = "auditing…"
		} else if len(p.report.Findings) > 0 {
			msg = "no finding matches the filter"
		}
		text := p.c.Styles.Muted.Render(msg)
		if p.flow.note != "" {
			text = p.c.Styles.Status.Render(safe.Terminal(p.flow.note)) + "\n\n" + text
		}
		p.detail.setContent(text, true)
		return
	}
	if f.ID != p.shownID || p.flow.state != p.shownSt {
		top = true
		p.shownID, p.shownSt = f.ID, p.flow.state
	}
	if p.flow.active() && p.flow.id == f.ID {
		p.detail.setContent(p.flow.view(f, p.names), top)
		return
	}
	if p.yaml.on && p.focus {
		p.detail.setContent(p.yaml.render(p.c.Styles), top)
		return
	}
	var b strings.Builder
	if p.flow.note != "" {
		b.WriteString(p.c.Styles.Status.Render(safe.Terminal(p.flow.note)) + "\n\n")
	}
	b.WriteString(p.renderFinding(f))
	p.detail.setContent(b.String(), top)
}

func (p *findingsPage) renderFinding(f *audit.Finding) string {
	st, names := p.c.Styles, p.names
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s  %s\n", st.Severity[f.Severity].Render(strings.ToUpper(f.Severity.String())), st.Bold.Render(f.Rule), st.Muted.Render("("+string(f.Category)+")  "+f.ID))
	b.WriteString(st.Bold.Render(safe.Terminal(names.Annotate(f.Title))) + "\n\n")
	b.WriteString(safe.Terminal(names.Annotate(f.Message)) + "\n")
	switch {
	case f.Default:
		b.WriteString(st.Muted.Render("Kubernetes' default policy, exactly as the API server creates it: the API server restores it if changed") + "\n")
	case f.Managed:
		b.WriteString(st.Muted.Render("platform-managed object: the platform (AKS, an add-on, the addon manager) reconciles it, so change it through the platform; its severity stands") + "\n")
	}
	// Subjects and the paths' bindings and roles are links: in the
	// detail, up and down mark one and enter goes to it.
	if p.linkFor != f.ID {
		p.link, p.linkFor = 0, f.ID
	}
	sel := -1
	if p.focus {
		sel = p.link
	}
	p.links = nil
	if len(f.Subjects) > 0 {
		b.WriteString("\n" + st.Bold.Render("Who") + "\n")
		for _, s := range f.Subjects {
			line := safe.Terminal(names.Subject(s))
			if len(p.links) == sel {
				line = st.Bold.Render("› " + line)
			}
			p.links = append(p.links, jumpMsg{subject: &s})
			b.WriteString("  " + line + "\n")
		}
	}
	if len(f.Objects) > 0 {
		b.WriteString("\n" + st.Bold.Render("Objects") + "\n")
		for _, o := range f.Objects {
			b.WriteString("  " + safe.Terminal(o.String()) + "\n")
		}
	}
	if len(f.Evidence) > 0 {
		text, links := provenanceLinks(st, st.Bold.Render("Why (binding → role → rule)"), f.Evidence, sel, len(p.links))
		p.links = append(p.links, links...)
		b.WriteString("\n" + text + "\n")
	}
	if p.focus && len(p.links) > 0 {
		b.WriteString("\n" + st.Muted.Render("↑↓ choose, enter: go to it (esc comes back)") + "\n")
	}
	b.WriteString("\n")
	if f.Fixable {
		b.WriteString(st.Bold.Render("Fix") + ": press f to see it (w writes it, a applies it, y copies its commands)\n")
	} else {
		b.WriteString(st.Muted.Render("No fix as a manifest: this needs a change outside RBAC objects (see the message).") + "\n")
	}
	return b.String()
}

func (p *findingsPage) view() string {
	detail := p.detail.view()
	if d := p.flow.dialog(p.lay.detailW); d != "" {
		detail = overlayBottom(detail, d, p.lay.detailW, p.lay.detailH)
	}
	cat := ""
	if c := categories[p.category]; c != "" {
		cat = p.c.Styles.Muted.Render("category: ") + string(c) + p.c.Styles.Muted.Render("  (c for the next)")
	}
	return p.filter.view(p.c.Styles, cat) + "\n" + p.lay.join(p.c.Styles, p.list.view(), detail, p.focus)
}

// overlayBottom draws box over the last lines of a pane of w x h.
func overlayBottom(pane, box string, w, h int) string {
	lines := strings.Split(fit(pane, w, h), "\n")
	boxLines := strings.Split(box, "\n")
	if len(boxLines) > len(lines) {
		boxLines = boxLines[len(boxLines)-len(lines):]
	}
	copy(lines[len(lines)-len(boxLines):], boxLines)
	return strings.Join(lines, "\n")
}

// findingNamespace is where a finding is: the namespace of its first
// namespaced object or binding, "" when it is cluster-wide.
func findingNamespace(f *audit.Finding) string {
	for _, o := range f.Objects {
		if o.Namespace != "" {
			return o.Namespace
		}
	}
	for _, p := range f.Evidence {
		if p.Binding != nil && p.Binding.Namespace != "" {
			return p.Binding.Namespace
		}
	}
	return ""
}

// Navigation: what a jump to this page, and back from it, asks of it.

// atTop: nothing of the page's own to step back from (see listPage.atTop).
func (p *findingsPage) atTop() bool { return p.listPage.atTop() && !p.flow.active() }
