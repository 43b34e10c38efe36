package access

import (
	"context"
	"encoding/json"
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

func (a *App) do(ctx context.Context, op fix.Operation, dryRun bool) (before, after map[string]any, err error) {
	if op.IsAKS() {
		// Its own bounds: the read's, then the long-running update's.
		return a.doAKS(ctx, op, dryRun)
	}
	ctx, cancel := context.WithTimeout(ctx, a.callTimeout())
	defer cancel()
	if op.IsAzure() {
		return a.doAzure(ctx, op, dryRun)
	}
	if op.IsCredential() {
		return a.doCredential(ctx, op, dryRun)
	}
	return a.Cluster.Do(ctx, op, dryRun)
}

// doCredential deletes (or, restoring, creates) a managed identity's
// federated credential through ARM, as doAzure does a role assignment:
// the dry run reads it and checks the guard, the real run checks again,
// then writes. An app registration's lives in Microsoft Graph, which this
// tool does not write.
func (a *App) doCredential(ctx context.Context, op fix.Operation, dryRun bool) (before, after map[string]any, err error) {
	z := a.Azure
	var cw CredentialWriter
	ok := false
	if z != nil && z.ARM != nil {
		cw, ok = z.ARM.(CredentialWriter)
	}
	switch {
	case fix.AppCredential(op.Target.Name):
		return nil, nil, errors.New("an app registration's federated credential lives in Microsoft Graph, which this tool does not write: run the az ad app federated-credential command the fix prints (fix ID -o kubectl)")
	case z == nil || z.SignInErr != nil || !ok:
		why := "run fix --apply with --azure-rbac, signed in to Azure"
		if z != nil && z.SignInErr != nil {
			why = z.SignInErr.Error()
		}
		return nil, nil, fmt.Errorf("this change is to a federated identity credential, made through Azure Resource Manager: %s; or run the az command the fix prints", why)
	}
	cur, err := cw.FederatedCredential(ctx, op.Target.Name)
	if err != nil {
		return nil, nil, err
	}
	switch op.Action {
	case fix.Delete:
		if cur == nil {
			return nil, nil, fmt.Errorf("%w: the federated credential no longer exists", fix.ErrChanged)
		}
		if err := fix.CheckAssignment(cur, op.Guard); err != nil {
			return nil, nil, err
		}
		if !dryRun {
			err = cw.DeleteFederatedCredential(ctx, op.Target.Name)
		}
		return cur, nil, err
	case fix.Create:
		if cur != nil {
			return nil, nil, fmt.Errorf("%w: the federated credential exists already", fix.ErrChanged)
		}
		issuer, subject, audiences, err := fix.CredentialOf(op)
		if err != nil {
			return nil, nil, err
		}
		var obj map[string]any
		_ = json.Unmarshal(op.Object, &obj)
		if !dryRun {
			err = cw.CreateFederatedCredential(ctx, op.Target.Name, issuer, subject, audiences)
		}
		return nil, obj, err
	}
	return nil, nil, fmt.Errorf("a federated credential is created or deleted, not %s", op.Action)
}

// doAzure creates or deletes a role assignment through ARM. ARM has no dry
// run: the dry run reads the assignment and checks the fix's guard (a
// delete) or that it does not exist yet (a create); the real run checks
// again, then writes.
func (a *App) doAzure(ctx context.Context, op fix.Operation, dryRun bool) (before, after map[string]any, err error) {
	z := a.Azure
	if z == nil || z.SignInErr != nil || z.ARM == nil {
		why := "run fix --apply with --azure-rbac, signed in to Azure"
		if z != nil && z.SignInErr != nil {
			why = z.SignInErr.Error()
		}
		return nil, nil, fmt.Errorf("this change is to an Azure role assignment, made through Azure Resource Manager: %s; or run the az commands the fix prints", why)
	}
	cur, err := z.ARM.Assignment(ctx, op.Target.Name)
	if err != nil {
		return nil, nil, err
	}
	switch op.Action {
	case fix.Delete:
		if cur == nil {
			return nil, nil, fmt.Errorf("%w: the role assignment no longer exists", fix.ErrChanged)
		}
		if err := fix.CheckAssignment(cur, op.Guard); err != nil {
			return nil, nil, err
		}
		if !dryRun {
			err = z.ARM.DeleteAssignment(ctx, op.Target.Name)
		}
		return cur, nil, err
	case fix.Create:
		if cur != nil {
			return nil, nil, fmt.Errorf("%w: the role assignment exists already", fix.ErrChanged)
		}
		scope, role, principal, typ, err := fix.AssignmentOf(op)
		if err != nil {
			return nil, nil, err
		}
		var obj map[string]any
		_ = json.Unmarshal(op.Object, &obj)
		if !dryRun {
			err = z.ARM.CreateAssignment(ctx, op.Target.Name, scope, role, principal, typ)
		}
		return nil, obj, err
	}
	return nil, nil, fmt.Errorf("an Azure role assignment is created or deleted, not %s", op.Action)
}
