package access

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/kubectl-access/kubectl-access/fix"
)

// Apply applies fx as one unit and returns how many of its operations
// stand. Every guard of every operation (test operations, existence,
// resourceVersion) is checked by a server-side dry run before the first
// write; the operations run removals first (patches and deletes, which
// only take access away), then creates (the intended grants), so a
// failure part-way can only leave less access than before; and a failure
// undoes the writes already made, newest first. applied is called for
// each operation that stands.
func (a *App) Apply(ctx context.Context, fx *fix.Fix, applied func(op fix.Operation)) (int, error) {
	if a.Cluster == nil {
		return 0, ErrNotLive
	}
	ops := fix.Ordered(fx.Operations)
	if _, err := a.DryRun(ctx, &fix.Fix{Operations: ops}); err != nil {
		return 0, fmt.Errorf("nothing was applied: %w", err)
	}
	type done struct {
		op            fix.Operation
		before, after map[string]any
	}
	var made []done
	for i, op := range ops {
		before, after, err := a.do(ctx, op, false)
		if err == nil {
			made = append(made, done{op, before, after})
			continue
		}
		err = fmt.Errorf("%s: %w", describe(op), err)
		var undone, notUndone []string
		for k := len(made) - 1; k >= 0; k-- {
			m := made[k]
			u, uerr := Undo(m.op, m.before, m.after)
			if uerr == nil {
				_, _, uerr = a.do(ctx, u, false)
			}
			if uerr != nil {
				notUndone = append(notUndone, fmt.Sprintf("%s (%v)", describe(m.op), uerr))
				continue
			}
			undone = append(undone, describe(m.op))
		}
		if len(notUndone) > 0 {
			for _, m := range made {
				if applied != nil && !slices.ContainsFunc(undone, func(d string) bool { return d == describe(m.op) }) {
					applied(m.op)
				}
			}
			return len(made) - len(undone), fmt.Errorf("%w; undoing the %d changes applied before it failed for %s: they stand (each only removes access or adds the intended grant)",
				err, i, strings.Join(notUndone, "; "))
		}
		if i == 0 {
			return 0, fmt.Errorf("%w; nothing was applied", err)
		}
		return 0, fmt.Errorf("%w; the %d changes applied before it were undone (%s): the cluster is as it was", err, i, strings.Join(undone, ", "))
	}
	if applied != nil {
		for _, m := range made {
			applied(m.op)
		}
	}
	return len(made), nil
}

// Undo is the operation that reverses one applied operation, given the
// object before and after it: a created object is deleted (guarded by its
// uid), a deleted one created again as it was, a patched one's patched
// fields put back (guarded by the values the patch left).
func Undo(op fix.Operation, before, after map[string]any) (fix.Operation, error) {
	switch {
	case op.IsAzure():
		return fix.Operation{}, errors.New("an Azure role assignment is not undone here: run the az commands of the fix in reverse")
	case op.Action == fix.Create:
		uid, _, _ := nestedString(after, "metadata", "uid")
		if uid == "" {
			return fix.Operation{}, errors.New("the created object's uid is unknown")
		}
		return fix.Operation{Action: fix.Delete, Target: op.Target, Guard: []fix.PatchOp{{Op: "test", Path: "/metadata/uid", Value: uid}}}, nil
	case op.Action == fix.Delete:
		obj := map[string]any{}
		for k, v := range before {
			obj[k] = v
		}
		meta, _ := before["metadata"].(map[string]any)
		clean := map[string]any{}
		for _, k := range []string{"name", "namespace", "labels", "annotations"} {
			if v, ok := meta[k]; ok {
				clean[k] = v
			}
		}
		obj["metadata"] = clean
		b, err := json.Marshal(obj)
		if err != nil {
			return fix.Operation{}, err
		}
		return fix.Operation{Action: fix.Create, Target: op.Target, Object: b}, nil
	}
	// A patch: each top-level field it touched is replaced by its value
	// before, guarded by the value the patch left.
	var fields []string
	for _, p := range op.Patch {
		f, _, _ := strings.Cut(strings.TrimPrefix(p.Path, "/"), "/")
		if p.Op != "test" && !slices.Contains(fields, f) {
			fields = append(fields, f)
		}
	}
	var ops []fix.PatchOp
	for _, f := range fields {
		now, inAfter := after[f]
		was, inBefore := before[f]
		if inAfter {
			ops = append(ops, fix.PatchOp{Op: "test", Path: "/" + f, Value: now})
		}
		switch {
		case inBefore && inAfter:
			ops = append(ops, fix.PatchOp{Op: "replace", Path: "/" + f, Value: was})
		case inBefore:
			ops = append(ops, fix.PatchOp{Op: "add", Path: "/" + f, Value: was})
		case inAfter:
			ops = append(ops, fix.PatchOp{Op: "remove", Path: "/" + f})
		}
	}
	return fix.Operation{Action: fix.Patch, Target: op.Target, Patch: ops}, nil
}

func nestedString(m map[string]any, keys ...string) (string, bool, error) {
	var cur any = m
	for _, k := range keys {
		mm, ok := cur.(map[string]any)
		if !ok {
			return "", false, nil
		}
		cur = mm[k]
	}
	s, ok := cur.(string)
	return s, ok, nil
}
