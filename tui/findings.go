package tui

import (
	"context"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/kubectl-access/kubectl-access/audit"
	"github.com/kubectl-access/kubectl-access/fix"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// categories are what `c` cycles through ("" = every category).
var categories = []audit.Category{"", audit.CategoryRBAC, audit.CategoryGMSA, audit.CategoryNodeAuthz, audit.CategoryCredentials}

// fixMode is where the findings page is in a fix's flow.
type fixMode int

const (
	modeFinding fixMode = iota // the finding's detail
	modeFix                    // the fix: patch, diff, lost access
	modeConfirm                // the server's dry run, and "apply?"
)

// findingsPage lists the audit's findings by severity; on one, f shows its
// fix, w writes it, a applies it after a dry run and a confirmation, y
// copies its kubectl commands.
type findingsPage struct {
	c         *Common
	deps      *deps
	data      *Data
	list      *list
	filter    filterBar
	detail    detailPane
	lay       split
	category  int
	focus     bool
	mode      fixMode
	busy      string // what is running: "building the fix", "dry run", ...
	note      string // the last outcome, shown above the detail
	fixes     map[string]*fixMsg
	dry       *dryRunMsg
	shownID   string
	shownMode fixMode
}

// deps are what the pages that do I/O need: the backend and the context
// every call runs under.
type deps struct {
	ctx     context.Context
	backend Backend
	// writeDir is where `w` writes fixes.
	writeDir string
}

func newFindingsPage(c *Common, d *deps) *findingsPage {
	p := &findingsPage{c: c, deps: d, filter: newFilterBar(), detail: newDetailPane(true), fixes: map[string]*fixMsg{}}
	p.list = newList(c.Styles,
		column{title: "SEVERITY", width: 8},
		column{title: "RULE", width: 28},
		column{title: "FINDING", flex: true},
	)
	p.list.extra = func(r row) bool {
		cat := categories[p.category]
		return cat == "" || r.fields["category"] == string(cat)
	}
	return p
}

func (p *findingsPage) title() string { return "Findings" }

func (p *findingsPage) typing() bool { return p.filter.active }

func (p *findingsPage) setData(d *Data) {
	p.data = d
	p.fixes = map[string]*fixMsg{} // a new load: fixes are built again from it
	p.dry = nil
	p.mode = modeFinding
	rows := []row{}
	if d.Report != nil {
		rows = make([]row, len(d.Report.Findings))
		for i, f := range d.Report.Findings {
			sev := f.Severity.String()
			text := d.Names.Annotate(f.Title)
			if len(f.Subjects) > 0 {
				text = subjectCell(d.Names, f.Subjects[0]) + ": " + text
			}
			if f.Managed {
				text += " (platform-managed)"
			}
			rows[i] = row{
				cells:  []string{p.c.Styles.Severity[f.Severity].Render(sev), f.Rule, text},
				search: strings.ToLower(f.ID + " " + sev + " " + f.Rule + " " + string(f.Category) + " " + text + " " + f.Message),
				fields: map[string]string{"rule": f.Rule, "category": string(f.Category), "cat": string(f.Category), "sev": sev, "severity": sev, "id": f.ID},
			}
		}
	}
	p.list.setRows(rows)
	p.sync(true)
}

func (p *findingsPage) setSize(w, h int) {
	p.lay = layout(w, h-1)
	p.list.setSize(p.lay.listW, p.lay.listH)
	p.detail.setSize(p.lay.detailW, p.lay.detailH)
	p.sync(false)
}

func (p *findingsPage) help() []key.Binding {
	k := p.c.Keys
	switch {
	case p.mode == modeConfirm:
		return []key.Binding{k.Yes, k.No}
	case p.mode == modeFix:
		return []key.Binding{k.Write, k.Apply, k.Copy, k.Up, k.Down, k.Back}
	case p.focus:
		return []key.Binding{k.Up, k.Down, k.Fix, k.Back}
	}
	return []key.Binding{k.Up, k.Down, k.Filter, k.Category, k.Enter, k.Fix, k.Write, k.Apply, k.Copy}
}

func (p *findingsPage) status() string {
	s := "findings " + p.list.position()
	if c := categories[p.category]; c != "" {
		s += "  category " + string(c)
	}
	if p.busy != "" {
		s += "  " + p.busy + "…"
	}
	if p.note != "" {
		s += "  " + p.note
	}
	return s
}

// current is the finding under the cursor.
func (p *findingsPage) current() (*audit.Finding, bool) {
	i, ok := p.list.selected()
	if !ok || p.data == nil || p.data.Report == nil {
		return nil, false
	}
	return &p.data.Report.Findings[i], true
}

func (p *findingsPage) update(msg tea.Msg) tea.Cmd {
	k := p.c.Keys
	switch msg := msg.(type) {
	case fixMsg:
		p.fixes[msg.id] = &msg
		if p.busy == "building the fix" {
			p.busy = ""
		}
		p.sync(false)
		return nil
	case dryRunMsg:
		p.busy = ""
		if msg.err != nil {
			p.note = "dry run failed, nothing was changed: " + msg.err.Error()
			p.mode = modeFix
		} else {
			p.dry = &msg
			p.mode = modeConfirm
			p.note = ""
		}
		p.sync(true)
		return nil
	case appliedMsg:
		p.busy = ""
		p.dry = nil
		p.mode = modeFinding
		if msg.err != nil {
			p.note = "apply failed: " + msg.err.Error()
			p.sync(true)
			return nil
		}
		p.note = "applied the fix for " + msg.id + "; reloading"
		p.sync(true)
		return func() tea.Msg { return reloadMsg{} }
	case wroteMsg:
		if msg.err != nil {
			p.note = "could not write the fix: " + msg.err.Error()
		} else {
			p.note = "wrote " + msg.path + " (mode 0600)"
		}
		p.sync(false)
		return nil
	}
	if p.filter.active {
		changed, cmd := p.filter.update(msg, k)
		if changed {
			p.list.setFilter(p.filter.value())
			p.sync(true)
		}
		return cmd
	}
	km, isKey := msg.(tea.KeyPressMsg)
	if p.mode == modeConfirm {
		if !isKey {
			return nil
		}
		switch {
		case key.Matches(km, k.Yes):
			return p.apply()
		case key.Matches(km, k.No):
			p.mode, p.dry, p.note = modeFix, nil, "not applied"
			p.sync(true)
		}
		return nil
	}
	if isKey {
		switch {
		case key.Matches(km, k.Fix):
			return p.showFix()
		case key.Matches(km, k.Write):
			return p.withFix(p.write)
		case key.Matches(km, k.Apply):
			return p.withFix(p.dryRun)
		case key.Matches(km, k.Copy):
			return p.withFix(p.copy)
		case key.Matches(km, k.Back) && (p.mode != modeFinding || p.focus):
			if p.mode != modeFinding {
				p.mode = modeFinding
			} else {
				p.focus = false
				p.list.focused = true
			}
			p.note = ""
			p.sync(true)
			return nil
		}
		if !p.focus && p.mode == modeFinding {
			switch {
			case key.Matches(km, k.Filter):
				return p.filter.open()
			case key.Matches(km, k.Category):
				p.category = (p.category + 1) % len(categories)
				p.list.refilter(true)
				p.list.clamp()
				p.sync(true)
				return nil
			case key.Matches(km, k.Enter), key.Matches(km, k.Right):
				p.focus = true
				p.list.focused = false
				return nil
			}
		}
	}
	if p.focus || p.mode != modeFinding {
		p.detail.update(msg, k)
		return nil
	}
	if p.list.update(msg, k) {
		p.note = ""
		p.sync(true)
	}
	return nil
}

// fixable is the current finding when it has a fix; otherwise it says why
// not.
func (p *findingsPage) fixable() (*audit.Finding, bool) {
	f, ok := p.current()
	if ok && !f.Fixable {
		p.note = f.Rule + " has no fix as a manifest"
		p.sync(false)
		return nil, false
	}
	return f, ok
}

// showFix opens the fix of the current finding, building it first.
func (p *findingsPage) showFix() tea.Cmd {
	f, ok := p.fixable()
	if !ok {
		return nil
	}
	p.mode, p.focus, p.list.focused = modeFix, true, false
	p.note = ""
	cmd := p.buildFix(f)
	p.sync(true)
	return cmd
}

// buildFix starts building the fix of f unless it is built or building.
func (p *findingsPage) buildFix(f *audit.Finding) tea.Cmd {
	if _, ok := p.fixes[f.ID]; ok || p.busy == "building the fix" {
		return nil
	}
	p.busy = "building the fix"
	ix, finding, opts := p.data.Index, *f, p.data.FixOptions
	return func() tea.Msg { return buildFix(ix, &finding, opts) }
}

// buildFix builds and previews one fix: pure work on the snapshot, run as
// a command because verifying a fix on a large cluster takes a moment.
func buildFix(ix *rbac.Index, f *audit.Finding, o fix.Options) fixMsg {
	fx, err := fix.For(ix, f, o)
	if err != nil {
		return fixMsg{id: f.ID, err: err}
	}
	changes, err := fix.Preview(ix.Snapshot(), fx)
	if err != nil {
		return fixMsg{id: f.ID, err: err}
	}
	m := fixMsg{id: f.ID, fix: fx}
	for _, c := range changes {
		m.preview = append(m.preview, OpDiff{Operation: string(c.Operation.Action) + " " + c.Operation.Target.String(), Diff: fix.Diff(c.Before, c.After)})
	}
	return m
}

// withFix runs then once the current finding's fix is built; until then it
// shows the fix being built.
func (p *findingsPage) withFix(then func(*fix.Fix) tea.Cmd) tea.Cmd {
	f, ok := p.fixable()
	if !ok {
		return nil
	}
	fm, ok := p.fixes[f.ID]
	if !ok {
		cmd := p.showFix()
		p.note = "the fix is being built and checked; press the key again when it shows"
		p.sync(false)
		return cmd
	}
	if fm.err != nil {
		p.note = "no fix: " + fm.err.Error()
		p.sync(false)
		return nil
	}
	p.mode, p.focus, p.list.focused = modeFix, true, false
	return then(fm.fix)
}

func (p *findingsPage) write(fx *fix.Fix) tea.Cmd {
	dir := p.deps.writeDir
	return func() tea.Msg {
		path, err := writeFix(dir, fx)
		return wroteMsg{path: path, err: err}
	}
}

func (p *findingsPage) copy(fx *fix.Fix) tea.Cmd {
	p.note = "copied the kubectl commands to the clipboard (OSC 52: where the terminal allows it); they are shown below"
	p.sync(false)
	return tea.SetClipboard(fix.Kubectl(fx))
}

func (p *findingsPage) dryRun(fx *fix.Fix) tea.Cmd {
	if !p.data.Live {
		p.note = "this view was read from files: nothing to apply to; write the fix (w) or copy its commands (y)"
		p.sync(false)
		return nil
	}
	p.busy = "server-side dry run"
	p.note = ""
	ctx, b, id := p.deps.ctx, p.deps.backend, fx.Finding
	return func() tea.Msg {
		diffs, err := b.DryRun(ctx, fx)
		return dryRunMsg{id: id, diffs: diffs, err: err}
	}
}

func (p *findingsPage) apply() tea.Cmd {
	fm := p.fixes[p.dry.id]
	if fm == nil || fm.fix == nil {
		return nil
	}
	p.busy = "applying"
	ctx, b, fx := p.deps.ctx, p.deps.backend, fm.fix
	return func() tea.Msg { return appliedMsg{id: fx.Finding, err: b.Apply(ctx, fx)} }
}

// sync renders the detail of the current finding in the current mode.
func (p *findingsPage) sync(top bool) {
	f, ok := p.current()
	if !ok {
		msg := "no findings"
		if p.data != nil && p.data.Report != nil && len(p.data.Report.Findings) > 0 {
			msg = "no finding matches the filter"
		}
		p.detail.setContent(p.c.Styles.Muted.Render(msg), true)
		return
	}
	if f.ID != p.shownID || p.mode != p.shownMode {
		top = true
		p.shownID, p.shownMode = f.ID, p.mode
	}
	var b strings.Builder
	if p.note != "" {
		b.WriteString(p.c.Styles.Status.Render(p.note) + "\n\n")
	}
	switch p.mode {
	case modeFix:
		b.WriteString(p.renderFix(f))
	case modeConfirm:
		b.WriteString(p.renderConfirm())
	default:
		b.WriteString(p.renderFinding(f))
	}
	p.detail.setContent(b.String(), top)
}

func (p *findingsPage) renderFinding(f *audit.Finding) string {
	st, names := p.c.Styles, p.data.Names
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s  %s\n", st.Severity[f.Severity].Render(strings.ToUpper(f.Severity.String())), st.Bold.Render(f.Rule), st.Muted.Render("("+string(f.Category)+")  "+f.ID))
	b.WriteString(st.Bold.Render(names.Annotate(f.Title)) + "\n\n")
	b.WriteString(names.Annotate(f.Message) + "\n")
	if f.Managed {
		b.WriteString(st.Muted.Render("platform-managed object: reported as info; the platform may restore it") + "\n")
	}
	if len(f.Subjects) > 0 {
		b.WriteString("\n" + st.Bold.Render("Who") + "\n")
		for _, s := range f.Subjects {
			b.WriteString("  " + names.Annotate(s.String()) + "\n")
		}
	}
	if len(f.Objects) > 0 {
		b.WriteString("\n" + st.Bold.Render("Objects") + "\n")
		for _, o := range f.Objects {
			b.WriteString("  " + o.String() + "\n")
		}
	}
	if len(f.Evidence) > 0 {
		b.WriteString("\n" + provenance(st, st.Bold.Render("Why (binding → role → rule)"), f.Evidence) + "\n")
	}
	b.WriteString("\n")
	if f.Fixable {
		b.WriteString(st.Bold.Render("Fix") + ": press f to see it (w writes it, a applies it, y copies its commands)\n")
	} else {
		b.WriteString(st.Muted.Render("No fix as a manifest: this needs a change outside RBAC objects (see the message).") + "\n")
	}
	return b.String()
}

func (p *findingsPage) renderFix(f *audit.Finding) string {
	st := p.c.Styles
	fm, ok := p.fixes[f.ID]
	if !ok {
		return "Building the fix for " + f.ID + " and checking it on a copy of the snapshot…\n"
	}
	if fm.err != nil {
		return st.Error.Render("No fix can be offered") + "\n" + fm.err.Error() + "\n"
	}
	fx, v := fm.fix, fm.fix.Verification
	var b strings.Builder
	b.WriteString(st.Bold.Render("Fix for "+f.ID) + "\n" + fx.Description + "\n\n")
	b.WriteString(st.OK.Render("Checked on a copy of the snapshot: the finding is gone; nobody gains access.") + "\n")
	for _, g := range v.Granted {
		b.WriteString("  grants (the missing grant): " + g.String() + "\n")
	}
	if len(v.Lost) == 0 {
		b.WriteString("  nobody loses any permission\n")
	}
	for _, l := range v.Lost {
		b.WriteString(st.Removed.Render("  loses ") + p.data.Names.Annotate(l.String()) + "\n")
	}
	if len(v.Others) > 0 {
		var names []string
		for _, s := range v.Others {
			names = append(names, p.data.Names.Annotate(s.String()))
		}
		b.WriteString(st.Warning.Render("  also removes access from "+strings.Join(names, ", ")) + "\n")
	}
	b.WriteString("\n" + st.Bold.Render("What changes") + "\n")
	for _, d := range fm.preview {
		b.WriteString(st.Muted.Render(d.Operation) + "\n" + colorDiff(st, d.Diff) + "\n")
	}
	b.WriteString(st.Bold.Render("As kubectl commands") + " (guarded: a concurrent change makes them fail)\n")
	b.WriteString(fix.Kubectl(fx) + "\n")
	b.WriteString(st.Muted.Render("w write to a file · a apply (dry run first) · y copy · esc back") + "\n")
	return b.String()
}

func (p *findingsPage) renderConfirm() string {
	st := p.c.Styles
	var b strings.Builder
	b.WriteString(st.OK.Render("Server-side dry run accepted every change:") + "\n\n")
	for _, d := range p.dry.diffs {
		b.WriteString(st.Muted.Render(d.Operation) + "\n" + colorDiff(st, d.Diff) + "\n")
	}
	b.WriteString(st.Dialog.Render(fmt.Sprintf("Apply %d change(s) for %s to the cluster (%s)?  y: apply   n: cancel", len(p.dry.diffs), p.dry.id, p.data.Source)) + "\n")
	return b.String()
}

func colorDiff(st *Styles, d string) string {
	lines := strings.Split(strings.TrimSuffix(d, "\n"), "\n")
	for i, l := range lines {
		switch {
		case strings.HasPrefix(l, "+"):
			lines[i] = st.Added.Render(l)
		case strings.HasPrefix(l, "-"):
			lines[i] = st.Removed.Render(l)
		}
	}
	return strings.Join(lines, "\n")
}

func (p *findingsPage) view() string {
	return p.filter.view(p.c.Styles) + "\n" + p.lay.join(p.c.Styles, p.list.view(), p.detail.view(), p.focus)
}
