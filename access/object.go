package access

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-access/kubectl-access/internal/safe"
	"github.com/kubectl-access/kubectl-access/rbac"
)

// Getter reads one object as the cluster has it now.
type Getter interface {
	Get(ctx context.Context, ref rbac.ObjectRef) (map[string]any, error)
}

// ObjectYAML is an RBAC object or service account as YAML, and where it
// comes from: live, a GET now (less managedFields), so it is the object
// as the cluster has it, not as it was loaded; offline, the object as read
// from its file, with the file and line.
func (s *Session) ObjectYAML(ctx context.Context, ref rbac.ObjectRef) (text, origin string, err error) {
	if g, ok := s.App.Cluster.(Getter); ok && s.App.Cluster != nil {
		callCtx, cancel := context.WithTimeout(ctx, s.App.callTimeout())
		defer cancel()
		obj, err := g.Get(callCtx, ref)
		if err != nil {
			return "", "", err
		}
		if md, ok := obj["metadata"].(map[string]any); ok {
			delete(md, "managedFields")
		}
		b, err := safe.YAML(obj)
		if err != nil {
			return "", "", err
		}
		return string(b), "as the cluster has it now", nil
	}
	b, ok := s.snapshotObject(ref)
	if !ok {
		return "", "", fmt.Errorf("%s is not in what was read (one of Kubernetes' default roles taken from its policy, or not read)", ref)
	}
	origin = "as read"
	if l, ok := s.Locations[ref.Key()]; ok {
		origin = "as read from " + l.String()
	}
	return string(b), origin, nil
}

// snapshotObject is the object of the snapshot as YAML.
func (s *Session) snapshotObject(ref rbac.ObjectRef) ([]byte, bool) {
	snap := s.Index.Snapshot()
	named := func(m metav1.Object) bool { return m.GetName() == ref.Name && m.GetNamespace() == ref.Namespace }
	var obj any
	switch ref.Kind {
	case "Role":
		obj = find(snap.Roles, named)
	case "ClusterRole":
		obj = find(snap.ClusterRoles, named)
	case "RoleBinding":
		obj = find(snap.RoleBindings, named)
	case "ClusterRoleBinding":
		obj = find(snap.ClusterRoleBindings, named)
	case "ServiceAccount":
		obj = find(snap.ServiceAccounts, named)
	}
	if obj == nil {
		return nil, false
	}
	b, err := safe.YAML(obj)
	return b, err == nil
}

// find returns the item match accepts, or nil.
func find[T any, PT interface {
	*T
	metav1.Object
}](items []T, match func(metav1.Object) bool) any {
	for i := range items {
		if match(PT(&items[i])) {
			return &items[i]
		}
	}
	return nil
}
