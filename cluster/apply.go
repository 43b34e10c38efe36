package cluster

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/kubectl-access/kubectl-access/fix"
	"github.com/kubectl-access/kubectl-access/rbac"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
)

// guardError marks a refused guard: a JSON patch test operation that
// failed (the API server answers 422 Invalid) or a delete whose
// preconditions no longer hold (409 Conflict) means the object changed
// since the fix was computed.
func guardError(err error) error {
	if err == nil {
		return nil
	}
	if apierrors.IsInvalid(err) || apierrors.IsConflict(err) {
		return fmt.Errorf("%w; nothing of this change was applied, run the audit again: %v", fix.ErrChanged, err)
	}
	if apierrors.IsNotFound(err) {
		return fmt.Errorf("%w (it no longer exists); run the audit again: %v", fix.ErrChanged, err)
	}
	return err
}

var gvrs = map[string]schema.GroupVersionResource{
	"ClusterRole":        {Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterroles"},
	"ClusterRoleBinding": {Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterrolebindings"},
	"Role":               {Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "roles"},
	"RoleBinding":        {Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "rolebindings"},
	"Namespace":          {Version: "v1", Resource: "namespaces"},
}

// Applier applies fix operations to a live cluster.
type Applier struct{ dyn dynamic.Interface }

// NewApplier returns an applier with the caller's credentials.
func NewApplier(cfg *rest.Config) (*Applier, error) {
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &Applier{dyn: dyn}, nil
}

// Do performs one operation, or its server-side dry run, and returns the
// object before and after, for the diff. A guard that fails (the object
// changed since the fix was computed) is an error that says so.
func (a *Applier) Do(ctx context.Context, op fix.Operation, dryRun bool) (before, after map[string]any, err error) {
	before, after, err = a.do(ctx, op, dryRun)
	return before, after, guardError(err)
}

func (a *Applier) do(ctx context.Context, op fix.Operation, dryRun bool) (before, after map[string]any, err error) {
	dyn := a.dyn
	gvr, ok := gvrs[op.Target.Kind]
	if !ok {
		return nil, nil, fmt.Errorf("fixes do not change %s objects", op.Target.Kind)
	}
	var ri dynamic.ResourceInterface = dyn.Resource(gvr)
	if op.Target.Namespace != "" {
		ri = dyn.Resource(gvr).Namespace(op.Target.Namespace)
	}
	var dry []string
	if dryRun {
		dry = []string{metav1.DryRunAll}
	}
	if op.Action != fix.Create {
		cur, err := ri.Get(ctx, op.Target.Name, metav1.GetOptions{})
		if err != nil {
			return nil, nil, err
		}
		before = cur.Object
	}
	switch op.Action {
	case fix.Create:
		var u unstructured.Unstructured
		if err := json.Unmarshal(op.Object, &u.Object); err != nil {
			return nil, nil, err
		}
		res, err := ri.Create(ctx, &u, metav1.CreateOptions{DryRun: dry})
		if err != nil {
			return nil, nil, err
		}
		return nil, res.Object, nil
	case fix.Patch:
		b, _ := json.Marshal(op.Patch)
		res, err := ri.Patch(ctx, op.Target.Name, types.JSONPatchType, b, metav1.PatchOptions{DryRun: dry})
		if err != nil {
			return nil, nil, err
		}
		return before, res.Object, nil
	default: // delete: the guard first (a patch that changes nothing), then the delete with preconditions
		b, _ := json.Marshal(op.Guard)
		cur, err := ri.Patch(ctx, op.Target.Name, types.JSONPatchType, b, metav1.PatchOptions{DryRun: dry})
		if err != nil {
			return nil, nil, err
		}
		uid, rv := cur.GetUID(), cur.GetResourceVersion()
		err = ri.Delete(ctx, op.Target.Name, metav1.DeleteOptions{DryRun: dry, Preconditions: &metav1.Preconditions{UID: &uid, ResourceVersion: &rv}})
		return before, nil, err
	}
}

// Get reads one object as the cluster has it now (the explorer's v).
func (c *Client) Get(ctx context.Context, ref rbac.ObjectRef) (map[string]any, error) {
	gvr, ok := gvrs[ref.Kind]
	if ref.Kind == "ServiceAccount" {
		gvr, ok = schema.GroupVersionResource{Version: "v1", Resource: "serviceaccounts"}, true
	}
	if !ok {
		return nil, fmt.Errorf("cannot read %s objects", ref.Kind)
	}
	var ri dynamic.ResourceInterface = c.applier.dyn.Resource(gvr)
	if ref.Namespace != "" {
		ri = c.applier.dyn.Resource(gvr).Namespace(ref.Namespace)
	}
	u, err := ri.Get(ctx, ref.Name, metav1.GetOptions{})
	if err != nil {
		return nil, Explain(err)
	}
	return u.Object, nil
}
