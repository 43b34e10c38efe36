package access

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/kubectl-access/kubectl-access/fix"
	"github.com/kubectl-access/kubectl-access/internal/files"
	"github.com/kubectl-access/kubectl-access/internal/safe"
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
	ap, err := a.ApplyFix(ctx, fx, applied)
	return ap.N, err
}

// Applied is what an applied fix changed, and what puts it back.
type Applied struct {
	// N is how many operations stand.
	N int
	// Restore is the inverse of each operation that stands, newest
	// first, built from each object as it was just before (nil when
	// nothing stands, or RestoreErr says why one could not be inverted).
	Restore    *fix.Fix
	RestoreErr error
}

// ApplyFix is Apply, saying what puts the changes back.
func (a *App) ApplyFix(ctx context.Context, fx *fix.Fix, applied func(op fix.Operation)) (*Applied, error) {
	n, made, err := a.apply(ctx, fx, applied)
	ap := &Applied{N: n}
	if n == 0 || len(made) == 0 {
		return ap, err
	}
	ap.Restore = &fix.Fix{Finding: fx.Finding, Description: "restore what kubectl access fix " + fx.Finding + " --apply changed"}
	for k := len(made) - 1; k >= 0; k-- {
		u, uerr := Undo(made[k].op, made[k].before, made[k].after)
		if uerr != nil {
			ap.Restore, ap.RestoreErr = nil, fmt.Errorf("%s: %w", describe(made[k].op), uerr)
			break
		}
		ap.Restore.Operations = append(ap.Restore.Operations, u)
	}
	return ap, err
}

// applied is one operation that stands, with its object before and after.
type appliedOp struct {
	op            fix.Operation
	before, after map[string]any
}

// apply applies fx (see Apply) and returns the operations that stand.
func (a *App) apply(ctx context.Context, fx *fix.Fix, applied func(op fix.Operation)) (int, []appliedOp, error) {
	if a.Cluster == nil {
		return 0, nil, ErrNotLive
	}
	ops := fix.Ordered(fx.Operations)
	if _, err := a.DryRun(ctx, &fix.Fix{Operations: ops}); err != nil {
		return 0, nil, fmt.Errorf("nothing was applied: %w", err)
	}
	type done = appliedOp
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
			var stand []done
			for _, m := range made {
				if !slices.ContainsFunc(undone, func(d string) bool { return d == describe(m.op) }) {
					stand = append(stand, m)
				}
			}
			return len(made) - len(undone), stand, fmt.Errorf("%w; undoing the %d changes applied before it failed for %s: they stand (each only removes access or adds the intended grant)",
				err, i, strings.Join(notUndone, "; "))
		}
		if i == 0 {
			return 0, nil, fmt.Errorf("%w; nothing was applied", err)
		}
		return 0, nil, fmt.Errorf("%w; the %d changes applied before it were undone (%s): the cluster is as it was", err, i, strings.Join(undone, ", "))
	}
	if applied != nil {
		for _, m := range made {
			applied(m.op)
		}
	}
	return len(made), made, nil
}

// Undo is the operation that reverses one applied operation, given the
// object before and after it: a created object is deleted (guarded by its
// uid), a deleted one created again as it was, a patched one's patched
// fields put back (guarded by the values the patch left).
func Undo(op fix.Operation, before, after map[string]any) (fix.Operation, error) {
	switch {
	case op.IsAzure() && op.Action == fix.Create:
		return fix.Operation{Action: fix.Delete, Target: op.Target}, nil
	case op.IsAzure() && op.Action == fix.Delete:
		// The assignment as ARM gave it just before: scope, role and
		// principal are what creating it again needs.
		b, err := json.Marshal(before)
		if err != nil || len(before) == 0 {
			return fix.Operation{}, errors.New("the deleted Azure role assignment was not read before")
		}
		if props, _ := before["properties"].(map[string]any); props != nil && props["condition"] != nil && props["condition"] != "" {
			// Created again without it, it would allow more than it did.
			return fix.Operation{}, errors.New("the deleted Azure role assignment had an ABAC condition, which is not put back here: create it again with az role assignment create --condition")
		}
		return fix.Operation{Action: fix.Create, Target: op.Target, Object: b}, nil
	case op.IsAKS():
		return undoAKS(op, before)
	case op.IsAzure():
		return fix.Operation{}, errors.New("an Azure change other than a role assignment's creation or deletion is not undone here")
	case op.IsCredential() && op.Action == fix.Delete:
		// The credential as ARM gave it just before: issuer, subject and
		// audiences are what creating it again needs.
		b, err := json.Marshal(before)
		if err != nil || len(before) == 0 {
			return fix.Operation{}, errors.New("the deleted federated credential was not read before")
		}
		return fix.Operation{Action: fix.Create, Target: op.Target, Object: b}, nil
	case op.IsCredential() && op.Action == fix.Create:
		return fix.Operation{Action: fix.Delete, Target: op.Target}, nil
	case op.IsCredential():
		return fix.Operation{}, errors.New("a federated credential change other than its creation or deletion is not undone here")
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

// SaveRestore writes the restore of an applied fix into dir as a shell
// script (mode 0600, never over another file) of the guarded commands
// that put each change back (fix -o kubectl's form: a step that finds a
// later change fails rather than overwrite it), and returns its path and
// the one command that runs it.
func SaveRestore(ap *Applied, dir string, origin Origin, now time.Time) (path, command string, err error) {
	if ap == nil || ap.Restore == nil {
		return "", "", errors.New("nothing to restore")
	}
	path = filepath.Join(dir, "restore-"+filepath.Base(ap.Restore.Finding)+"-"+now.UTC().Format("20060102T150405Z")+".sh")
	if abs, aerr := filepath.Abs(path); aerr == nil {
		path = abs
	}
	err = files.Write(path, false, func(w io.Writer) error {
		_, werr := fmt.Fprintf(w, "#!/bin/sh\n# kubectl access: puts back what fix %s --apply changed on %s at %s.\n# Run it with the same kubectl context (and Azure sign-in); each step is guarded.\n%s",
			safe.ShellComment(ap.Restore.Finding), safe.ShellComment(origin.String()), now.UTC().Format(time.RFC3339), fix.Kubectl(ap.Restore))
		return werr
	})
	if err != nil {
		return "", "", err
	}
	return path, "sh " + safe.Shell(path), nil
}
