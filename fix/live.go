package fix

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"
)

// guardError explains a failed test operation.
func guardError(err error) error {
	if err == nil {
		return nil
	}
	if apierrors.IsInvalid(err) || apierrors.IsConflict(err) || strings.Contains(err.Error(), "testing value") || strings.Contains(err.Error(), "test operation") {
		return fmt.Errorf("the object changed since the audit, so the guarded change was refused and nothing of it applied; run the audit again: %v", err)
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

// runOp performs one operation (or its dry run) and returns the object
// before and after, for the diff.
// Applier applies operations to a live cluster.
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
func (a *Applier) Do(ctx context.Context, op Operation, dryRun bool) (before, after map[string]any, err error) {
	before, after, err = a.do(ctx, op, dryRun)
	return before, after, guardError(err)
}

func (a *Applier) do(ctx context.Context, op Operation, dryRun bool) (before, after map[string]any, err error) {
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
	if op.Action != Create {
		cur, err := ri.Get(ctx, op.Target.Name, metav1.GetOptions{})
		if err != nil {
			return nil, nil, err
		}
		before = cur.Object
	}
	switch op.Action {
	case Create:
		var u unstructured.Unstructured
		if err := json.Unmarshal(op.Object, &u.Object); err != nil {
			return nil, nil, err
		}
		res, err := ri.Create(ctx, &u, metav1.CreateOptions{DryRun: dry})
		if err != nil {
			return nil, nil, err
		}
		return nil, res.Object, nil
	case Patch:
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

// Diff renders before and after as YAML and marks the lines that differ.
func Diff(before, after map[string]any) string {
	for _, m := range []map[string]any{before, after} {
		if meta, ok := m["metadata"].(map[string]any); ok {
			delete(meta, "managedFields")
		}
	}
	lines := func(m map[string]any) []string {
		if m == nil {
			return nil
		}
		b, _ := yaml.Marshal(m)
		return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	}
	return unifiedDiff(lines(before), lines(after))
}

// unifiedDiff marks each line of a and b as kept, removed or added, from
// their longest common subsequence; unchanged runs are shortened.
func unifiedDiff(a, b []string) string {
	n, m := len(a), len(b)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	type line struct {
		mark byte
		text string
	}
	var out []line
	i, j := 0, 0
	// Where several alignments are equally long, remove and add first and
	// match late, so that a removed list item shows as whole lines rather
	// than as its neighbour's lines shifted.
	for i < n || j < m {
		switch {
		case i < n && lcs[i+1][j] == lcs[i][j]:
			out = append(out, line{'-', a[i]})
			i++
		case j < m && lcs[i][j+1] == lcs[i][j]:
			out = append(out, line{'+', b[j]})
			j++
		default:
			out = append(out, line{' ', a[i]})
			i, j = i+1, j+1
		}
	}
	var sb strings.Builder
	const context = 2
	near := func(k int) bool {
		for d := -context; d <= context; d++ {
			if k+d >= 0 && k+d < len(out) && out[k+d].mark != ' ' {
				return true
			}
		}
		return false
	}
	skipped := false
	for k, l := range out {
		if !near(k) {
			if !skipped {
				sb.WriteString("  ...\n")
			}
			skipped = true
			continue
		}
		skipped = false
		fmt.Fprintf(&sb, "%c %s\n", l.mark, l.text)
	}
	return sb.String()
}
