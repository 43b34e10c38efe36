package access

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/kubectl-access/kubectl-access/fix"
	"github.com/kubectl-access/kubectl-access/loading"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// scripted is a cluster whose real writes fail from the failAt-th on (dry
// runs pass), recording what was asked.
type scripted struct {
	failAt int
	writes []fix.Operation
}

func (c *scripted) Load(context.Context, loading.Scope) (*rbac.Snapshot, error) { return nil, nil }
func (c *scripted) Exists(context.Context, rbac.ObjectRef) (bool, error)        { return true, nil }
func (c *scripted) Do(_ context.Context, op fix.Operation, dryRun bool) (map[string]any, map[string]any, error) {
	if dryRun {
		return nil, nil, nil
	}
	c.writes = append(c.writes, op)
	if len(c.writes) == c.failAt {
		return nil, nil, errors.New("conflict")
	}
	before := map[string]any{"metadata": map[string]any{"name": op.Target.Name, "uid": "u-before"}, "subjects": []any{"a", "b"}}
	after := map[string]any{"metadata": map[string]any{"name": op.Target.Name, "uid": "u-after"}, "subjects": []any{"a"}}
	switch op.Action {
	case fix.Create:
		return nil, after, nil
	case fix.Delete:
		return before, nil, nil
	}
	return before, after, nil
}

// TestApplyRemovalsFirstAndUndone: a fix runs its removals before its
// grants, and a failure undoes what was applied, newest first: a
// narrowing fix never leaves its new grant without its removal.
func TestApplyRemovalsFirstAndUndone(t *testing.T) {
	rb := rbac.ObjectRef{Kind: "RoleBinding", Name: "narrow", Namespace: "ci"}
	crb := rbac.ObjectRef{Kind: "ClusterRoleBinding", Name: "wide"}
	patched := rbac.ObjectRef{Kind: "ClusterRoleBinding", Name: "shared"}
	fx := &fix.Fix{Operations: []fix.Operation{
		{Action: fix.Create, Target: rb, Object: []byte(`{"metadata":{"name":"narrow","namespace":"ci"}}`)},
		{Action: fix.Patch, Target: patched, Patch: []fix.PatchOp{{Op: "test", Path: "/subjects/1", Value: "b"}, {Op: "remove", Path: "/subjects/1"}}},
		{Action: fix.Delete, Target: crb},
	}}

	// The removal fails first: the grant is never made.
	c := &scripted{failAt: 1}
	n, err := (&App{Cluster: c}).Apply(t.Context(), fx, nil)
	if err == nil || n != 0 || len(c.writes) != 1 || c.writes[0].Action == fix.Create {
		t.Fatalf("a failing first removal: %d applied, writes %+v, %v", n, c.writes, err)
	}

	// The grant fails last: the patch and the delete are undone, newest
	// first (the deleted binding created again, the patched field put back).
	c = &scripted{failAt: 3}
	n, err = (&App{Cluster: c}).Apply(t.Context(), fx, nil)
	if err == nil || n != 0 || !strings.Contains(err.Error(), "undone") {
		t.Fatalf("a failing grant: %d applied, %v", n, err)
	}
	var got []string
	for _, w := range c.writes {
		got = append(got, string(w.Action)+" "+w.Target.Name)
	}
	if want := "patch shared,delete wide,create narrow,create wide,patch shared"; strings.Join(got, ",") != want {
		t.Errorf("writes %q, want %q", strings.Join(got, ","), want)
	}
	undo := c.writes[4]
	if len(undo.Patch) != 2 || undo.Patch[0].Op != "test" || undo.Patch[1].Op != "replace" || undo.Patch[1].Path != "/subjects" {
		t.Errorf("the patch's undo: %+v", undo.Patch)
	}
}
