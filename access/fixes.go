package access

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/kubectl-access/kubectl-access/audit"
	"github.com/kubectl-access/kubectl-access/fix"
)

// ErrNotLive says a fix cannot be applied: the view was read from files.
var ErrNotLive = errors.New("this view was read from files: there is no cluster to apply to; print the fix with -o kubectl or -o yaml")

// ErrNoFinding says the finding asked for is not in the current audit.
var ErrNoFinding = errors.New("no such finding here now")

// FixPlan is a checked fix of one finding and what it changes, object by
// object, computed on a copy of the snapshot (no cluster needed).
type FixPlan struct {
	Finding *audit.Finding
	Fix     *fix.Fix
	Changes []OpDiff
}

// OpDiff is one operation and the diff of its object.
type OpDiff struct {
	Operation string // "patch RoleBinding team-a/devs"
	Diff      string // a unified diff of the object as YAML
}

// Finding finds the finding with id in a fresh audit of its rule.
func (s *Session) Finding(id string) (*audit.Finding, error) {
	rule, err := audit.ParseID(id)
	if err != nil {
		return nil, err
	}
	rep := s.Audit(AuditOptions{Only: []string{rule}})
	i := slices.IndexFunc(rep.Findings, func(f audit.Finding) bool { return f.ID == id })
	if i < 0 {
		msg := "it was fixed, or the objects it names changed; run kubectl access audit for current ids"
		if rep.Incomplete {
			msg += " (the view is incomplete: it may be in what could not be read)"
		}
		return nil, fmt.Errorf("%w: %s: %s", ErrNoFinding, id, msg)
	}
	return &rep.Findings[i], nil
}

// PlanFix builds the fix of f, checks it on a copy of the snapshot (the
// finding is gone, nobody gains access) and previews every object it
// changes.
func (s *Session) PlanFix(f *audit.Finding, o fix.Options) (*FixPlan, error) {
	if o.Resources == nil && s.App.Catalog != nil {
		o.Resources = s.App.Catalog.GroupResources
	}
	fx, err := fix.For(s.Index, f, o)
	if err != nil {
		return nil, err
	}
	// Checked on a partial view, a fix may take from (or give to) someone
	// in what could not be read: the plan says so.
	fx.Verification.Incomplete = s.Incomplete()
	// The description heads the kubectl commands and the written file:
	// a group is named there beside its object id.
	fx.Description = s.App.Names.Annotate(fx.Description)
	changes, err := fix.Preview(s.Index.Snapshot(), fx)
	if err != nil {
		return nil, err
	}
	p := &FixPlan{Finding: f, Fix: fx}
	for _, c := range changes {
		p.Changes = append(p.Changes, OpDiff{Operation: describe(c.Operation), Diff: fix.Diff(c.Before, c.After)})
	}
	return p, nil
}

func describe(op fix.Operation) string { return string(op.Action) + " " + op.Target.String() }

// DryRun runs every operation of fx as a server-side dry run, in order,
// each bounded by the app's call timeout, and returns the server's diffs.
func (a *App) DryRun(ctx context.Context, fx *fix.Fix) ([]OpDiff, error) {
	if a.Cluster == nil {
		return nil, ErrNotLive
	}
	var out []OpDiff
	for _, op := range fx.Operations {
		before, after, err := a.do(ctx, op, true)
		if err != nil {
			return nil, fmt.Errorf("dry run of %s: %w", describe(op), err)
		}
		out = append(out, OpDiff{Operation: describe(op), Diff: fix.Diff(before, after)})
	}
	return out, nil
}

// Apply applies fx for real, in order, and returns how many operations
// were applied. It stops at the first failure: each operation only
// removes access or adds the intended grant, so a partial apply widens
// nothing.
func (a *App) Apply(ctx context.Context, fx *fix.Fix, applied func(op fix.Operation)) (int, error) {
	if a.Cluster == nil {
		return 0, ErrNotLive
	}
	for i, op := range fx.Operations {
		if _, _, err := a.do(ctx, op, false); err != nil {
			return i, fmt.Errorf("%s: %w (%d of %d changes applied before it; each one only removes access or adds the intended grant)",
				describe(op), err, i, len(fx.Operations))
		}
		if applied != nil {
			applied(op)
		}
	}
	return len(fx.Operations), nil
}

func (a *App) do(ctx context.Context, op fix.Operation, dryRun bool) (before, after map[string]any, err error) {
	ctx, cancel := context.WithTimeout(ctx, a.callTimeout())
	defer cancel()
	return a.Cluster.Do(ctx, op, dryRun)
}
