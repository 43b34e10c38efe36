package tui

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/kubectl-access/kubectl-access/access"
	"github.com/kubectl-access/kubectl-access/audit"
	"github.com/kubectl-access/kubectl-access/identity"
	"github.com/kubectl-access/kubectl-access/internal/safe"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// subjectsPage lists every user, group and service account the cluster
// names, and for the selected one its effective permissions as a resource
// x verb matrix by namespace, with the provenance of the cell under the
// cursor.
type subjectsPage struct {
	listPage
	sess      *access.Session
	names     identity.Names
	subs      []subjectInfo
	sel       int // the subject the matrix is for, -1 for none
	rules     []rbac.GrantedRule
	scopes    []string
	scope     int
	mx        access.Matrix
	row       int
	col       int
	warning   string
	matrixTop int // the line the matrix starts on, to keep its cursor in view
	mview     matrixView
	// path is the path of the cell under the cursor, drawn in the
	// pathH lines below the detail's view.
	path  string
	pathH int
	dirty bool
	deps  *deps
	// sortBy is the index in subjectSorts.
	sortBy int
	// yaml (v) shows a service account's object instead of the matrix.
	yaml   bool
	object objectView
	// The cluster's word on one subject's rules (V): asked for
	// verifying, given in verified (or why not, verr).
	verifying  *rbac.Subject
	verifiedOf rbac.Subject
	verified   *access.Verification
	verr       error
	// groups are the Entra users' groups the directory said (by subject
	// key); asked those being asked.
	groups map[string]subjectGroupsMsg
	asked  map[string]bool
	// azure: some subject acts as an Azure identity, so the list has
	// the AZURE column.
	azure bool
}

type subjectInfo struct {
	s        rbac.Subject
	bindings int              // bindings and Azure role assignments naming it
	refs     []rbac.ObjectRef // the bindings
	findings int
	worst    audit.Severity
	// azure are the managed identities the subject acts as by a step in
	// the cluster (access.AzureReach), the most severe first.
	azure []access.AzureReach
	// dangling are the bindings naming it whose role does not exist.
	dangling []rbac.ObjectRef
}

func newSubjectsPage(c *Common, d *deps) *subjectsPage {
	p := &subjectsPage{sel: -1, deps: d}
	p.listPage = newListPage(c, false, subjectColumns(false)...)
	p.sync = func(bool) { p.syncDetail() }
	return p
}

// subjectColumns are the Subjects list's columns, with AZURE (the most
// severe Azure identity the subject acts as) when azure.
func subjectColumns(azure bool) []column {
	cols := []column{
		{title: "KIND", width: 5},
		{title: "NAME", flex: true},
		{title: "NAMESPACE", width: 12},
		{title: "BINDINGS", width: 8, short: "BIND"},
		{title: "FINDINGS", width: 8, short: "FIND"},
	}
	if azure {
		cols = append(cols, column{title: "AZURE", width: 8, short: "AZ"})
	}
	return cols
}

func (p *subjectsPage) title() string  { return "Subjects" }
func (p *subjectsPage) badge() string  { return "" }
func (p *subjectsPage) enter() tea.Cmd { return nil }

func (p *subjectsPage) setSession(s *access.Session) {
	p.sess, p.names, p.dirty = s, s.App.Names, true
	p.verifying, p.verified, p.verr = nil, nil, nil
	p.groups, p.asked = map[string]subjectGroupsMsg{}, map[string]bool{}
}

// askGroups asks the directory for the selected Entra user's groups, once
// per subject, off the UI goroutine: Microsoft Graph is a network away.
func (p *subjectsPage) askGroups() tea.Cmd {
	if p.sess == nil || p.sel < 0 || p.sel >= len(p.subs) {
		return nil
	}
	s := p.subs[p.sel].s
	k := subjectKeyOf(s)
	if p.asked[k] || !p.sess.FindsGroups(s) {
		return nil
	}
	p.asked[k] = true
	sess, ctx := p.sess, p.deps.ctx
	return func() tea.Msg {
		with, m, warns, failed := sess.FindGroups(ctx, s)
		return subjectGroupsMsg{sess: sess, key: k, subject: with, found: m, warns: warns, failed: failed}
	}
}

// takeGroups keeps a user's groups, and redraws the user's rules with
// them when it is the one shown.
func (p *subjectsPage) takeGroups(msg subjectGroupsMsg) {
	if msg.sess != p.sess {
		return
	}
	p.groups[msg.key] = msg
	if p.sel >= 0 && p.sel < len(p.subs) && subjectKeyOf(p.subs[p.sel].s) == msg.key {
		p.sel = -1 // recompute with the groups
		p.syncDetail()
	}
}

func (p *subjectsPage) build() {
	if !p.dirty {
		return
	}
	p.dirty = false
	p.subs = collectSubjects(p.sess)
	// The AZURE column, where some subject acts as an Azure identity
	// (what-can's azureReach): a cluster without any keeps its width.
	p.azure = slices.ContainsFunc(p.subs, func(si subjectInfo) bool { return len(si.azure) > 0 })
	p.list.cols = subjectColumns(p.azure)
	p.sortSubjects()
	p.setRows()
	p.sel = -1
	p.syncDetail()
}

// subjectSorts are what s cycles through on Subjects.
var subjectSorts = []string{"kind and name", "findings", "bindings", "namespace", "name"}

// sortSubjects orders the subjects by the current sort: the most findings
// or bindings first, else by namespace or name.
func (p *subjectsPage) sortSubjects() {
	order := map[string]int{rbac.UserKind: 0, rbac.GroupKind: 1, rbac.ServiceAccountKind: 2}
	byKind := func(a, b subjectInfo) int {
		return cmp.Or(cmp.Compare(order[a.s.Kind], order[b.s.Kind]), cmp.Compare(a.s.Namespace, b.s.Namespace), cmp.Compare(a.s.Name, b.s.Name))
	}
	var f func(a, b subjectInfo) int
	switch subjectSorts[p.sortBy] {
	case "findings":
		// The most severe first, then the most findings: a critical
		// finding is above any number of info ones.
		f = func(a, b subjectInfo) int {
			return cmp.Or(cmp.Compare(min(b.findings, 1), min(a.findings, 1)), cmp.Compare(b.worst, a.worst), cmp.Compare(b.findings, a.findings), byKind(a, b))
		}
	case "bindings":
		f = func(a, b subjectInfo) int { return cmp.Or(cmp.Compare(b.bindings, a.bindings), byKind(a, b)) }
	case "namespace":
		f = func(a, b subjectInfo) int { return cmp.Or(cmp.Compare(a.s.Namespace, b.s.Namespace), byKind(a, b)) }
	case "name":
		f = func(a, b subjectInfo) int { return cmp.Or(cmp.Compare(a.s.Name, b.s.Name), byKind(a, b)) }
	default:
		f = byKind
	}
	slices.SortStableFunc(p.subs, f)
}

// setRows lists p.subs in their order.
func (p *subjectsPage) setRows() {
	rows := make([]row, len(p.subs))
	for i, si := range p.subs {
		name := si.s.Name
		if si.s.Kind == rbac.GroupKind {
			name = groupCell(p.names, name)
		}
		kind := kindWord(si.s.Kind)
		rows[i] = row{
			cells:  p.cells(si, kind, name),
			search: strings.ToLower(kind + " " + name + " " + si.s.Namespace),
			fields: map[string]string{"kind": strings.ToLower(kind), "ns": si.s.Namespace, "name": strings.ToLower(name)},
		}
	}
	p.list.setRows(rows)
}

// cells are a subject's row: kind, name, namespace, bindings, findings,
// and its Azure reach where the page shows it.
func (p *subjectsPage) cells(si subjectInfo, kind, name string) []string {
	cells := []string{kind, safe.Terminal(name), safe.Terminal(si.s.Namespace), itoa(si.bindings), p.findingsCell(si)}
	if p.azure {
		cell := ""
		if len(si.azure) > 0 {
			cell = p.c.Styles.Severity[si.azure[0].Severity].Render(si.azure[0].Severity.String())
		}
		cells = append(cells, cell)
	}
	return cells
}

// findingsCell is the FINDINGS column: "…" until the audit has run.
func (p *subjectsPage) findingsCell(si subjectInfo) string {
	if p.sess.Audited() == nil {
		return "…"
	}
	return itoa(si.findings)
}

// audited fills the FINDINGS column in place, the cursor and filter kept.
func (p *subjectsPage) audited() {
	if p.dirty || p.sess == nil {
		return // build will count them
	}
	entries := make([]access.SubjectEntry, len(p.subs))
	for i := range p.subs {
		entries[i].Subject = p.subs[i].s
	}
	p.sess.CountFindings(entries)
	for i := range p.subs {
		p.subs[i].findings, p.subs[i].worst = entries[i].Findings, entries[i].Worst
	}
	for i := range p.list.rows {
		p.list.rows[i].cells[4] = itoa(p.subs[i].findings)
	}
}

// groupCell is a group in a list column: its name first when known, since
// a column too narrow for a GUID and a name would cut the name off.
func groupCell(n identity.Names, id string) string {
	if name, ok := n[id]; ok && name != "" && name != id {
		return name + " (" + id + ")"
	}
	return id
}

// subjectCell is a subject in a list column, a group by its name first.
func subjectCell(n identity.Names, s rbac.Subject) string {
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

// collectSubjects is every subject the view knows (access decides which,
// and what names each), with its findings once the audit has run.
func collectSubjects(sess *access.Session) []subjectInfo {
	entries := sess.Subjects()
	out := make([]subjectInfo, len(entries))
	for i, e := range entries {
		out[i] = subjectInfo{s: e.Subject, bindings: e.Named(), refs: e.Bindings, findings: e.Findings, worst: e.Worst, azure: e.Azure, dangling: e.Dangling}
	}
	return out // in no order: sortSubjects orders them
}

// subjectKeyOf is the identity a subject stands for.
func subjectKeyOf(s rbac.Subject) string { return s.Key() }

func (p *subjectsPage) setSize(w, h int) {
	p.resize(w, h)
	p.syncDetail()
}

func (p *subjectsPage) help() []key.Binding {
	k := p.c.Keys
	switch {
	case p.filter.active:
		return p.filterKeys()
	case p.focus && p.yaml:
		top, bottom := p.detail.ends()
		return append([]key.Binding{as(k.YAML, "back to the matrix"), as(k.Back, "back to the list"), k.Filter, k.Verify}, scrollKeys(k, top, bottom)...)
	case p.focus:
		var keys []key.Binding
		first, last := p.row == 0, p.row >= len(p.mx.Rows)-1
		if !first {
			keys = append(keys, as(k.Up, "resource up"))
		}
		if !last {
			keys = append(keys, as(k.Down, "resource down"))
		}
		if p.col > 0 {
			keys = append(keys, as(k.Left, "verb left"))
		}
		if p.col < len(matrixVerbs) {
			keys = append(keys, as(k.Right, "verb right"))
		}
		if len(p.scopes) > 1 {
			keys = append(keys, k.ScopePrev, k.ScopeNext)
		}
		if p.cellBinding() != nil {
			keys = append(keys, goTo)
		}
		keys = append(keys, as(k.Back, "back to the list"), k.Filter, k.YAML, k.Verify)
		if !first {
			keys = append(keys, as(k.PageUp, "resources up"), as(k.Home, "first resource"))
		}
		if !last {
			keys = append(keys, as(k.PageDown, "resources down"), as(k.End, "last resource"))
		}
		return keys
	}
	return p.listKeys(k.Sort, k.Verify, k.YAML)
}

func (p *subjectsPage) mode() string {
	switch {
	case p.focus && p.yaml:
		return "YAML"
	case p.focus:
		return "matrix"
	}
	return p.listPage.mode()
}

func (p *subjectsPage) status() string {
	s := "subjects " + p.list.position() + "  by " + subjectSorts[p.sortBy]
	if l := p.list.legend(); l != "" {
		s += "  (" + l + ")"
	}
	if p.focus && len(p.scopes) > 0 {
		s += "  scope " + scopeName(p.scopes[p.scope]) + fmt.Sprintf(" (%d/%d)", p.scope+1, len(p.scopes))
	}
	// V's answer, where the detail's top may be scrolled away.
	if i, ok := p.list.selected(); ok && i < len(p.subs) && subjectKeyOf(p.subs[i].s) == subjectKeyOf(p.verifiedOf) {
		switch {
		case p.verifying != nil:
			s += "  verifying…"
		case p.verr != nil:
			s += "  not verified (see the detail's top)"
		case p.verified != nil && p.verified.Agrees():
			s += "  verified"
		case p.verified != nil:
			s += "  NOT VERIFIED (see the detail's top)"
		}
	}
	return s
}

// cellBinding is the first binding behind the matrix cell under the
// cursor, nil when none (not granted, or system:masters).
func (p *subjectsPage) cellBinding() *rbac.ObjectRef {
	if p.row >= len(p.mx.Rows) || p.col >= len(p.mx.Rows[p.row].Cells) {
		return nil
	}
	for _, path := range p.mx.Rows[p.row].Cells[p.col].Paths {
		if path.Binding != nil {
			return path.Binding
		}
	}
	return nil
}

// verify asks the cluster's authorizer about every request the selected
// subject's rules grant (a bounded sample past that), off the UI
// goroutine.
func (p *subjectsPage) verify() tea.Cmd {
	i, ok := p.list.selected()
	if !ok || p.verifying != nil || p.sess == nil {
		return nil
	}
	s := p.subs[i].s
	p.verifying, p.verr, p.verified, p.verifiedOf = &s, nil, nil, s
	p.syncDetail()
	sess, ctx := p.sess, p.deps.ctx
	return func() tea.Msg {
		ans := sess.WhatCan(ctx, s, "")
		err := sess.VerifyWhatCan(ctx, ans, access.VerifyOptions{})
		return subjectVerifiedMsg{sess: sess, subject: s, ans: ans, err: err}
	}
}

func (p *subjectsPage) takeVerification(msg subjectVerifiedMsg) {
	if msg.sess != p.sess || p.verifying == nil || subjectKeyOf(*p.verifying) != subjectKeyOf(msg.subject) {
		return
	}
	p.verifying = nil
	p.verr = msg.err
	if msg.err == nil {
		p.verified = msg.ans.Verification
	}
	p.syncDetail()
}

// verificationLine is the cluster's word on the subject shown, if asked.
func (p *subjectsPage) verificationLine(s rbac.Subject) string {
	st := p.c.Styles
	if subjectKeyOf(s) != subjectKeyOf(p.verifiedOf) {
		return ""
	}
	switch {
	case p.verifying != nil:
		return st.Muted.Render("asking the cluster's authorizer (SubjectAccessReviews)…") + "\n"
	case p.verr != nil:
		return st.Error.Render("not verified: "+safe.Error(p.verr)) + "\n"
	case p.verified == nil:
		return ""
	case p.verified.Agrees():
		line := fmt.Sprintf("verified: the cluster's authorizer agreed on all %d requests these rules grant", p.verified.Checked)
		if p.verified.Sampled != "" {
			line += " (" + p.verified.Sampled + ")"
		}
		return st.Allowed.Render(safe.Terminal(line)) + "\n"
	}
	return verificationBlock(st, p.verified)
}

func scopeName(s string) string {
	if s == "" {
		return "cluster-wide"
	}
	return "namespace " + s
}

func (p *subjectsPage) update(msg tea.Msg) tea.Cmd {
	if g, ok := msg.(subjectGroupsMsg); ok {
		p.takeGroups(g)
		return nil
	}
	return tea.Batch(p.updateKeys(msg), p.askGroups())
}

func (p *subjectsPage) updateKeys(msg tea.Msg) tea.Cmd {
	if v, ok := msg.(subjectVerifiedMsg); ok {
		p.takeVerification(v)
		return nil
	}
	if km, ok := msg.(tea.KeyPressMsg); ok && !p.filter.active && key.Matches(km, p.c.Keys.Verify) {
		return p.verify()
	}
	if o, ok := msg.(objectMsg); ok {
		if p.object.ref == o.ref {
			p.object.msg = &o
			p.syncDetail()
		}
		return nil
	}
	if km, ok := msg.(tea.KeyPressMsg); ok && !p.filter.active && key.Matches(km, p.c.Keys.YAML) {
		if _, ok := p.list.selected(); !ok {
			return nil
		}
		p.yaml = !p.yaml
		var cmd tea.Cmd
		if i, ok := p.list.selected(); ok && p.yaml && p.subs[i].s.Kind == rbac.ServiceAccountKind {
			s := p.subs[i].s
			ref := rbac.ObjectRef{APIVersion: "v1", Kind: "ServiceAccount", Name: s.Name, Namespace: s.Namespace}
			p.object = objectView{ref: ref}
			cmd = fetch(p.sess, p.deps.ctx, ref)
		}
		p.detail.setContent(p.renderDetail(), true)
		return cmd
	}
	if km, ok := msg.(tea.KeyPressMsg); ok && !p.filter.active && !p.focus && key.Matches(km, p.c.Keys.Sort) {
		p.sortBy = (p.sortBy + 1) % len(subjectSorts)
		p.sortSubjects()
		p.setRows()
		p.list.cursor, p.list.offset = 0, 0
		p.sel = -1
		p.syncDetail()
		return nil
	}
	if _, click := msg.(tea.MouseClickMsg); click || !p.focus || p.filter.active {
		cmd, _ := p.handle(msg)
		return cmd
	}
	if p.yaml {
		// The YAML in place of the matrix: the keys scroll it.
		if km, ok := msg.(tea.KeyPressMsg); ok && (key.Matches(km, p.c.Keys.Back) || key.Matches(km, p.c.Keys.Filter)) {
			return p.updateMatrix(msg)
		}
		p.detail.update(msg, p.c.Keys)
		return nil
	}
	return p.updateMatrix(msg)
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
		p.setFocus(false)
	case key.Matches(km, k.Filter):
		p.setFocus(false)
		p.syncDetail()
		return p.openFilter()
	case key.Matches(km, k.Enter):
		// The binding behind the cell, on Roles & bindings.
		if b := p.cellBinding(); b != nil {
			return jumpToRef(*b)
		}
		return nil
	case key.Matches(km, k.Up):
		p.row = max(p.row-1, 0)
	case key.Matches(km, k.Down):
		p.row = min(p.row+1, max(len(p.mx.Rows)-1, 0))
	case key.Matches(km, k.Left):
		p.col = max(p.col-1, 0)
	case key.Matches(km, k.Right):
		p.col = min(p.col+1, len(matrixVerbs))
	case key.Matches(km, k.ScopeNext):
		p.setScope(p.scope + 1)
	case key.Matches(km, k.ScopePrev):
		p.setScope(p.scope - 1)
	case key.Matches(km, k.PageDown):
		p.row = min(p.row+max(p.lay.detailH/2, 1), max(len(p.mx.Rows)-1, 0))
	case key.Matches(km, k.PageUp):
		p.row = max(p.row-max(p.lay.detailH/2, 1), 0)
	case key.Matches(km, k.Home):
		p.row = 0
	case key.Matches(km, k.End):
		// The cursor to the last resource, not only the view.
		p.row = max(len(p.mx.Rows)-1, 0)
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
	p.mx = p.sess.Matrix(p.subs[p.sel].s, p.rules, p.scopes[p.scope])
	p.row = min(p.row, max(len(p.mx.Rows)-1, 0))
}

// syncDetail recomputes the detail for the selected subject: its rules
// once per selection (WhatCan), the matrix once per scope.
func (p *subjectsPage) syncDetail() {
	if p.sess == nil {
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
		g, found := p.groups[subjectKeyOf(s)]
		if found {
			s = g.subject // with the groups the directory found
		}
		res := p.sess.SubjectRules(s)
		p.rules = res.Rules
		p.warning = ""
		switch {
		case found && g.failed:
			p.warning = "INCOMPLETE: the user's Entra groups could not all be read (" + rbac.IncompleteCause(g.warns) + "); what a group grants them may be missing"
		case res.Incomplete:
			p.warning = "INCOMPLETE: " + rbac.IncompleteCause(res.Warnings) + "; this subject may hold more"
		}
		p.scopes = access.MatrixScopes(p.rules)
		p.scope, p.row, p.col = 0, 0, 0
		p.mx = p.sess.Matrix(s, p.rules, "")
		// Open on the scope where the subject holds the most: a
		// namespace's matrix holds the cluster-wide grants too, so
		// cluster-wide is first only when no namespace adds to it
		// (what every signed-in user holds cluster-wide does not
		// hide a team's namespace). The first scopes are looked at.
		best := granted(p.mx)
		for i := 1; i < min(len(p.scopes), 32); i++ {
			if mx := p.sess.Matrix(s, p.rules, p.scopes[i]); granted(mx) > best {
				p.scope, p.mx, best = i, mx, granted(mx)
			}
		}
	}
	// The path of the cell under the cursor is pinned below the matrix,
	// so it is on screen whatever the matrix's length (80x24 too).
	p.path = p.cellPath()
	p.pathH = 0
	if p.path != "" {
		p.pathH = min(strings.Count(p.path, "\n")+2, max(p.lay.detailH/2, 3))
	}
	p.detail.setSize(p.lay.detailW, max(p.lay.detailH-p.pathH, 1))
	p.detail.setContent(p.renderDetail(), top)
	if p.focus && !p.yaml {
		p.keepRowInView()
	}
}

func (p *subjectsPage) renderDetail() string {
	st := p.c.Styles
	si := p.subs[p.sel]
	if p.yaml {
		if si.s.Kind != rbac.ServiceAccountKind {
			return st.Muted.Render(safe.Terminal(si.s.String()) + ": users and groups are no objects in the cluster; only bindings name them (v: back)")
		}
		if ref := (rbac.ObjectRef{APIVersion: "v1", Kind: "ServiceAccount", Name: si.s.Name, Namespace: si.s.Namespace}); p.object.ref != ref {
			return st.Bold.Render(safe.Terminal(ref.String())) + "\n\n" + st.Muted.Render("v twice shows this one")
		}
		return p.object.render(st)
	}
	var b strings.Builder
	b.WriteString(st.Bold.Render(safe.Terminal(p.names.Subject(si.s))) + "\n")
	id := si.s.Identity()
	if len(id.Groups) > 0 && si.s.Kind != rbac.GroupKind {
		b.WriteString(st.Muted.Render("also in "+safe.Terminal(strings.Join(labels(p.names, id.Groups), ", "))) + "\n")
	}
	b.WriteString(p.groupsLines(si.s))
	if len(si.refs) > 0 {
		// What names the subject, as the authorizer reads the bindings.
		var named []string
		for _, r := range si.refs[:min(len(si.refs), 4)] {
			named = append(named, r.String())
		}
		if n := len(si.refs) - len(named); n > 0 {
			named = append(named, fmt.Sprintf("%d more", n))
		}
		b.WriteString(st.Muted.Render("bound by "+safe.Terminal(strings.Join(named, ", "))) + "\n")
	}
	if len(si.dangling) > 0 {
		var refs []string
		for _, r := range si.dangling {
			refs = append(refs, r.String())
		}
		b.WriteString(st.Warning.Render("its role does not exist (grants nothing until it does): "+safe.Terminal(strings.Join(refs, ", "))) + "\n")
	}
	// Its findings, the most severe first (all of them on Findings).
	if fs := p.sess.FindingsOf(si.s); len(fs) > 0 {
		b.WriteString(st.Bold.Render(fmt.Sprintf("findings: %d", len(fs))) + "\n")
		for _, f := range fs[:min(len(fs), 3)] {
			b.WriteString(st.Severity[f.Severity].Render(f.Severity.String()) + " " + safe.Terminal(f.ID+": "+p.names.Annotate(f.Title)) + "\n")
		}
		if len(fs) > 3 {
			b.WriteString(st.Muted.Render(fmt.Sprintf("  %d more on Findings", len(fs)-3)) + "\n")
		}
	}
	// The way out to Azure, as what-can says it.
	for _, w := range p.sess.WorkloadIdentities(si.s) {
		style := st.Warning
		if !w.Acts() {
			style = st.Muted
		}
		b.WriteString(style.Render(safe.Terminal(access.WorkloadSummary(&w))) + "\n")
	}
	// ... and by a step in the cluster, in what-can's words.
	if len(si.azure) > 0 {
		b.WriteString(st.Bold.Render("acts in Azure by a step in the cluster:") + "\n")
		last := ""
		for i := range si.azure {
			r := &si.azure[i]
			if id := access.ReachIdentity(r); id != last {
				b.WriteString(st.Severity[r.Severity].Render(r.Severity.String()) + " " + safe.Terminal(id) + "\n")
				last = id
			}
			step := access.ReachWords(&r.IdentityReach)
			if r.Subject.Key() != si.s.Key() {
				step += " (as a member of " + p.names.Subject(r.Subject) + ")"
			}
			if len(r.Evidence) > 0 {
				step += ", via " + access.PathVia(r.Evidence[0])
			}
			b.WriteString(st.Muted.Render("  "+safe.Terminal(step)) + "\n")
		}
	}
	if p.warning != "" {
		b.WriteString(st.Incomplete.Render(p.warning) + "\n")
	}
	b.WriteString(p.verificationLine(si.s))
	if len(p.rules) == 0 {
		b.WriteString("\nholds no permission through RBAC\n")
		return b.String()
	}
	// Scopes line: cluster-wide  [team-a]  team-b ...
	var sc []string
	for i, s := range p.scopes {
		n := safe.Terminal(s)
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
	p.mview = p.drawMatrix()
	b.WriteString(p.mview.text)
	return b.String()
}

// cellPath is the path behind the cell under the cursor, as a tree.
func (p *subjectsPage) cellPath() string {
	if !p.focus || p.yaml || p.row >= len(p.mx.Rows) {
		return ""
	}
	r := p.mx.Rows[p.row]
	verb := "other verbs"
	if p.col < len(matrixVerbs) {
		verb = matrixVerbs[p.col]
	}
	c := r.Cells[p.col]
	if p.col == len(matrixVerbs) && len(r.Other) > 0 {
		verb = strings.Join(r.Other, ",")
		if r.Other[0] == "*" {
			verb = "every verb (*, escalate, bind and impersonate included)"
		}
	}
	state := "denied"
	switch c.State {
	case access.Allowed:
		state = "allowed"
	case access.NamedOnly:
		state = "allowed on named objects only"
	}
	title := safe.Terminal(fmt.Sprintf("%s %s %s: %s", verb, r.Label, inScope(p.mx.Scope), state))
	return provenance(p.c.Styles, title, c.Paths)
}

func inScope(s string) string {
	if s == "" {
		return "cluster-wide"
	}
	return "in " + s
}

func labels(n identity.Names, groups []string) []string {
	out := make([]string, len(groups))
	for i, g := range groups {
		out[i] = n.Label(g)
	}
	return out
}

// Navigation: what a jump to this page, and back from it, asks of it.

// show selects subject s, the filter cleared and the list focused.
func (p *subjectsPage) show(s rbac.Subject) bool {
	p.build()
	p.setFocus(false)
	for i := range p.subs {
		if subjectKeyOf(p.subs[i].s) == subjectKeyOf(s) {
			ok := p.selectKeepingFilter(i)
			p.syncDetail()
			return ok
		}
	}
	p.syncDetail()
	return false
}

// here is the subject selected, to come back to.
func (p *subjectsPage) here() *jumpMsg {
	if i, ok := p.list.selected(); ok && i < len(p.subs) {
		s := p.subs[i].s
		return &jumpMsg{subject: &s}
	}
	return nil
}

// groupsLines say a user's Entra groups as the directory said them: the
// ones the cluster names, each with its chain, and how many others.
func (p *subjectsPage) groupsLines(s rbac.Subject) string {
	st := p.c.Styles
	if !p.sess.FindsGroups(s) {
		return ""
	}
	g, ok := p.groups[subjectKeyOf(s)]
	switch {
	case !ok:
		return st.Muted.Render("asking "+safe.Terminal(p.sess.App.People.Source())+" for the user's groups…") + "\n"
	case g.failed && g.found == nil:
		return st.Incomplete.Render("groups not read: "+safe.Terminal(rbac.IncompleteCause(g.warns))) + "\n"
	case g.found == nil || !g.found.Found:
		return st.Muted.Render(safe.Terminal(p.sess.App.People.Source())+" does not know the user: no groups found") + "\n"
	}
	m := g.found
	var named []string
	for _, x := range m.Groups {
		if slices.Contains(m.Named, x.Group.ID) {
			named = append(named, cmp.Or(x.Group.DisplayName, p.names.DisplayName(x.Group.ID), x.Group.ID)+" ("+access.MembershipLine(x, p.names)+")")
		}
	}
	line := fmt.Sprintf("in %d Entra group(s) (%s), %d named by the cluster", len(m.Groups), m.From, len(m.Named))
	if len(named) > 0 {
		line += ": " + strings.Join(named, "; ")
	}
	out := st.Muted.Render(wrapText(safe.Terminal(line), max(p.lay.detailW-2, 20), "  ")) + "\n"
	for _, e := range m.Eligible {
		out += st.Warning.Render(safe.Terminal("eligible (PIM), not active: "+e.AccessID+" of "+cmp.Or(e.Group.DisplayName, e.Group.ID))) + "\n"
	}
	return out
}
