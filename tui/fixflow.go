package tui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/kubectl-access/kubectl-access/access"
	"github.com/kubectl-access/kubectl-access/audit"
	"github.com/kubectl-access/kubectl-access/identity"
	"github.com/kubectl-access/kubectl-access/internal/safe"
)

// fixState is where a finding's fix is in its flow: build (check on a copy
// of the snapshot), preview, the server's dry run, the confirmation, the
// apply. Each state answers its own keys; nothing else happens in between.
type fixState int

const (
	fixNone     fixState = iota // the finding itself
	fixBuilding                 // building and checking the fix
	fixPreview                  // the fix: patch, diff, who loses what
	fixDryRun                   // the server-side dry run is running
	fixConfirm                  // the dry run's diff and the question
	fixApplying                 // applying for real
)

// fixAction is what to do once the fix is built: a, w and y work in one
// press on a fix not built yet.
type fixAction int

const (
	actShow fixAction = iota
	actWrite
	actCopy
	actApply
)

// Messages of the fix flow.
type (
	planMsg struct {
		id   string
		plan *access.FixPlan
		err  error
	}
	dryRunMsg struct {
		id    string
		diffs []access.OpDiff
		err   error
	}
	appliedMsg struct {
		id  string
		err error
		// restore is the command that puts the changes back, or why
		// there is none.
		restore string
	}
	wroteMsg struct {
		path string
		err  error
	}
)

// fixFlow is the fix of the current finding as its own model: a typed
// state, the plans built in this load (by finding id), the server's dry
// run while confirming, and the last outcome.
type fixFlow struct {
	c     *Common
	deps  *deps
	sess  *access.Session
	state fixState
	id    string // the finding the flow is on
	then  fixAction
	plans map[string]planMsg
	dry   []access.OpDiff
	// note is the outcome of the last step, until the next key;
	// reloading says it is an apply's, whose reload is running.
	note      string
	reloading bool
}

func newFixFlow(c *Common, d *deps) *fixFlow {
	return &fixFlow{c: c, deps: d, plans: map[string]planMsg{}}
}

// reset starts over on a new load: plans are built again from it. An
// apply's outcome stays, its reload done (the restore command in it);
// any other note ends with the load.
func (f *fixFlow) reset(s *access.Session) {
	f.sess, f.state, f.plans, f.dry = s, fixNone, map[string]planMsg{}, nil
	if f.reloading {
		f.note, f.reloading = strings.TrimSuffix(f.note, "; reloading")+"; reloaded", false
	} else {
		f.note = ""
	}
}

// active says the flow has the detail pane (any state but the finding's).
func (f *fixFlow) active() bool { return f.state != fixNone }

// busy says a command of the flow is running.
func (f *fixFlow) busy() string {
	switch f.state {
	case fixBuilding:
		return "building and checking the fix"
	case fixDryRun:
		if f.azure() {
			return "reading what it changes in Azure (ARM has no dry run)"
		}
		return "server-side dry run"
	case fixApplying:
		return "applying"
	}
	return ""
}

// start runs action on finding fi: it builds the fix first when needed.
func (f *fixFlow) start(fi *audit.Finding, act fixAction) tea.Cmd {
	if f.state == fixBuilding || f.state == fixDryRun || f.state == fixApplying {
		return nil // one thing at a time
	}
	f.note = ""
	if !fi.Fixable && !(f.deps.allowLockout && f.sess.LockedOut(fi.ID)) {
		f.note = fi.Rule + " has no fix as a manifest"
		if f.sess.LockedOut(fi.ID) {
			f.note = "no fix offered: it would leave no person holding * on * cluster-wide (explore --allow-lockout offers it)"
		}
		return nil
	}
	f.id, f.then = fi.ID, act
	pm, built := f.plans[fi.ID]
	if !built {
		f.state = fixBuilding
		sess, finding, allowLockout := f.sess, *fi, f.deps.allowLockout
		return func() tea.Msg {
			plan, err := sess.PlanFix(&finding, access.FixOptions{AllowLockout: allowLockout})
			return planMsg{id: finding.ID, plan: plan, err: err}
		}
	}
	return f.act(pm)
}

// act does the pending action on a built plan.
func (f *fixFlow) act(pm planMsg) tea.Cmd {
	f.state = fixPreview
	if pm.err != nil {
		f.note = "no fix: " + pm.err.Error()
		return nil
	}
	switch f.then {
	case actWrite:
		dir, fx, overwrite := f.deps.writeDir, pm.plan.Fix, f.deps.overwrite
		return func() tea.Msg {
			path, err := access.WriteFix(dir, fx, overwrite)
			return wroteMsg{path: path, err: err}
		}
	case actCopy:
		f.note = "copied the kubectl commands to the clipboard (OSC 52: where the terminal allows it); they are shown below"
		return tea.SetClipboard(pm.plan.Commands())
	case actApply:
		if !f.deps.app.Live() {
			f.note = "this view was read from files: nothing to apply to; write the fix (w) or copy its commands (y)"
			return nil
		}
		f.state = fixDryRun
		ctx, app, fx, id := f.deps.ctx, f.deps.app, pm.plan.Fix, pm.id
		return func() tea.Msg {
			diffs, err := app.DryRun(ctx, fx)
			return dryRunMsg{id: id, diffs: diffs, err: err}
		}
	}
	return nil
}

// update handles the flow's messages and, while it has the pane, its keys.
// It reports whether it handled msg.
func (f *fixFlow) update(msg tea.Msg) (tea.Cmd, bool) {
	switch msg := msg.(type) {
	case planMsg:
		f.plans[msg.id] = msg
		if f.state == fixBuilding && msg.id == f.id {
			return f.act(msg), true
		}
		return nil, true
	case dryRunMsg:
		if msg.err != nil {
			f.state, f.note = fixPreview, "dry run failed, nothing was changed: "+msg.err.Error()
			return nil, true
		}
		f.state, f.dry, f.note = fixConfirm, msg.diffs, ""
		return nil, true
	case appliedMsg:
		f.dry = nil
		if msg.err != nil {
			f.state, f.note = fixPreview, "apply failed: "+msg.err.Error()
			if msg.restore != "nothing stands" {
				f.note += "; " + msg.restore
			}
			return nil, true
		}
		f.state, f.note, f.reloading = fixNone, "applied the fix for "+msg.id+"; "+msg.restore+"; reloading", true
		return func() tea.Msg { return reloadMsg{} }, true
	case wroteMsg:
		if msg.err != nil {
			f.note = "could not write the fix: " + msg.err.Error()
		} else {
			f.note = "wrote " + msg.path + " (mode 0600)"
		}
		return nil, true
	}
	km, ok := msg.(tea.KeyPressMsg)
	if !ok || !f.active() {
		return nil, false
	}
	k := f.c.Keys
	switch f.state {
	case fixConfirm:
		switch {
		case key.Matches(km, k.Confirm):
			f.state = fixApplying
			ctx, app, fx, id, dir := f.deps.ctx, f.deps.app, f.plans[f.id].plan.Fix, f.id, f.deps.writeDir
			return func() tea.Msg {
				ap, err := app.ApplyFix(ctx, fx, nil)
				return appliedMsg{id: id, err: err, restore: restoreNote(ap, dir, app.Origin)}
			}, true
		case key.Matches(km, k.No):
			f.state, f.dry, f.note = fixPreview, nil, "not applied"
		case key.Matches(km, k.Copy):
			// y, a habit from the other states, applies nothing here
			// and says which key does.
			f.note = "press Y (shift+y) to apply, n or esc to cancel"
		}
		// Any other key waits: the dialog says the two answers.
		return nil, true
	case fixBuilding, fixDryRun, fixApplying:
		if key.Matches(km, k.Back) && f.state == fixBuilding {
			f.state = fixNone // the plan still arrives and is kept
		}
		return nil, true // wait: no key changes a running step
	case fixPreview:
		if key.Matches(km, k.Back) {
			f.state, f.note = fixNone, ""
			return nil, true
		}
	}
	return nil, false
}

// view renders the flow's detail for finding fi.
func (f *fixFlow) view(fi *audit.Finding, names identity.Names) string {
	st := f.c.Styles
	var b strings.Builder
	if f.note != "" {
		b.WriteString(st.Status.Render(safe.Terminal(f.note)) + "\n\n")
	}
	pm, built := f.plans[fi.ID]
	switch {
	case f.state == fixBuilding || !built:
		b.WriteString("Building the fix for " + fi.ID + " and checking it on a copy of the snapshot…\n")
		return b.String()
	case pm.err != nil:
		b.WriteString(st.Error.Render("No fix can be offered") + "\n" + safe.Terminal(pm.err.Error()) + "\n")
		return b.String()
	case f.state == fixConfirm || f.state == fixApplying:
		b.WriteString(st.OK.Render(f.dryRunHead()) + "\n\n")
		for _, d := range f.dry {
			b.WriteString(st.Muted.Render(safe.Terminal(d.Operation)) + "\n" + colorDiff(st, d.Diff) + "\n")
		}
		return b.String()
	}
	fx := pm.plan.Fix
	b.WriteString(st.Bold.Render("Fix for "+fi.ID) + "\n" + safe.Terminal(fx.Description) + "\n\n")
	for _, l := range pm.plan.Summary(names) {
		switch l.Kind {
		case access.FixChecked:
			b.WriteString(st.OK.Render(l.Text) + "\n")
		case access.FixIncomplete:
			b.WriteString(st.Incomplete.Render("  "+l.Text) + "\n")
		case access.FixLockout, access.FixOthers:
			b.WriteString(st.Warning.Render("  "+l.Text) + "\n")
		case access.FixLost:
			text, _ := strings.CutPrefix(l.Text, "loses ")
			b.WriteString(st.Removed.Render("  loses ") + text + "\n")
		default:
			b.WriteString("  " + l.Text + "\n")
		}
	}
	b.WriteString("\n" + st.Bold.Render("What changes") + "\n")
	for _, d := range pm.plan.Changes {
		b.WriteString(st.Muted.Render(safe.Terminal(d.Operation)) + "\n" + colorDiff(st, d.Diff) + "\n")
	}
	b.WriteString(st.Bold.Render("As kubectl commands") + " (guarded: a concurrent change makes them fail)\n")
	b.WriteString(safe.Lines(pm.plan.Commands()) + "\n")
	b.WriteString(st.Muted.Render("w write to a file · a apply (dry run first) · y copy · esc back") + "\n")
	return b.String()
}

// dialog is the confirmation, drawn over the bottom of the pane: it fits
// the smallest screen (80x24) whatever the diff above it holds.
func (f *fixFlow) dialog(width int) string {
	if f.state != fixConfirm && f.state != fixApplying {
		return ""
	}
	to := safe.Terminal(f.deps.app.Origin.String())
	if f.azure() {
		to += " through Azure Resource Manager"
	}
	q := fmt.Sprintf("Apply %d change(s) for %s to %s?", len(f.dry), f.id, to)
	if pm := f.plans[f.id]; pm.plan != nil && pm.plan.Fix.Verification.Incomplete {
		q = "INCOMPLETE VIEW: checked only on what could be read. " + q
	}
	keys := "Y (shift+y) apply · n or esc cancel"
	if f.state == fixApplying {
		keys = "applying…"
	}
	return f.c.Styles.Dialog.Width(max(width-2, 20)).Render(wrapText(q, max(width-6, 16), "") + "\n" + keys)
}

// azure says whether the fix being applied changes Azure role
// assignments or the managed cluster (through ARM, which has no dry run).
func (f *fixFlow) azure() bool {
	pm := f.plans[f.id]
	return pm.plan != nil && pm.plan.Azure()
}

func (f *fixFlow) dryRunHead() string {
	if f.azure() {
		return "Azure Resource Manager has no dry run: each role assignment or managed cluster it changes was read and is as the audit saw it (the Kubernetes changes, if any, passed a server-side dry run):"
	}
	return "Server-side dry run accepted every change:"
}

func colorDiff(st *Styles, d string) string {
	lines := strings.Split(strings.TrimSuffix(d, "\n"), "\n")
	for i, l := range lines {
		l = safe.Terminal(l)
		switch {
		case strings.HasPrefix(l, "+"):
			lines[i] = st.Added.Render(l)
		case strings.HasPrefix(l, "-"):
			lines[i] = st.Removed.Render(l)
		default:
			lines[i] = l
		}
	}
	return strings.Join(lines, "\n")
}

// restoreNote saves what puts an applied fix back (in the directory w
// writes fixes to) and says the command that runs it, or why there is
// none.
func restoreNote(ap *access.Applied, dir string, origin access.Origin) string {
	if ap == nil || ap.N == 0 {
		return "nothing stands"
	}
	if ap.RestoreErr != nil {
		return "no restore script: " + ap.RestoreErr.Error()
	}
	path, command, err := access.SaveRestore(ap, dir, origin, time.Now())
	if err != nil {
		return "the restore script could not be saved: " + err.Error()
	}
	return "previous state saved to " + path + " (0600): put it back with " + command
}
