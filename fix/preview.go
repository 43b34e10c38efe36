package fix

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/kubectl-access/kubectl-access/rbac"
)

// ObjectChange is one operation's target before and after it, nil for an
// object that does not exist (before a create, after a delete).
type ObjectChange struct {
	Operation     Operation
	Before, After map[string]any
}

// Preview applies fx's operations in order to a copy of s and returns each
// target as it was and as it becomes: the diff of a fix without a cluster
// (offline, or before the server's dry run). s is not changed.
func Preview(s *rbac.Snapshot, fx *Fix) ([]ObjectChange, error) {
	var out []ObjectChange
	cur := s
	for _, op := range fx.Operations {
		next, err := Apply(cur, []Operation{op})
		if err != nil {
			return nil, err
		}
		before, err := objectOf(cur, op.Target.Kind, op.Target.Name, op.Target.Namespace)
		if err != nil {
			return nil, err
		}
		after, err := objectOf(next, op.Target.Kind, op.Target.Name, op.Target.Namespace)
		if err != nil {
			return nil, err
		}
		out = append(out, ObjectChange{Operation: op, Before: withType(before, op), After: withType(after, op)})
		cur = next
	}
	return out, nil
}

func withType(m map[string]any, op Operation) map[string]any {
	if m == nil {
		return nil
	}
	m["apiVersion"], m["kind"] = op.Target.APIVersion, op.Target.Kind
	return m
}

// objectOf returns the object of the snapshot as a JSON map, or nil.
func objectOf(s *rbac.Snapshot, kind, name, namespace string) (map[string]any, error) {
	var obj any
	switch kind {
	case "ClusterRole":
		for i := range s.ClusterRoles {
			if s.ClusterRoles[i].Name == name {
				obj = &s.ClusterRoles[i]
			}
		}
	case "ClusterRoleBinding":
		for i := range s.ClusterRoleBindings {
			if s.ClusterRoleBindings[i].Name == name {
				obj = &s.ClusterRoleBindings[i]
			}
		}
	case "Role":
		for i := range s.Roles {
			if s.Roles[i].Name == name && s.Roles[i].Namespace == namespace {
				obj = &s.Roles[i]
			}
		}
	case "RoleBinding":
		for i := range s.RoleBindings {
			if s.RoleBindings[i].Name == name && s.RoleBindings[i].Namespace == namespace {
				obj = &s.RoleBindings[i]
			}
		}
	case "Namespace":
		for i := range s.Namespaces {
			if s.Namespaces[i].Name == name {
				obj = &s.Namespaces[i]
			}
		}
	case AKSKind:
		return aksObject(s, name)
	case CredentialKind:
		return credentialObject(s, name), nil
	case AzureKind:
		// An Azure role assignment, as ARM's REST API writes it.
		if s.Azure != nil {
			for i := range s.Azure.Assignments {
				if a := &s.Azure.Assignments[i]; strings.EqualFold(a.ID, name) {
					return armAssignment(a), nil
				}
			}
		}
		return nil, nil
	default:
		return nil, fmt.Errorf("fixes do not change %s objects", kind)
	}
	if obj == nil {
		return nil, nil
	}
	b, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	err = json.Unmarshal(b, &m)
	if meta, ok := m["metadata"].(map[string]any); ok && meta["creationTimestamp"] == nil {
		delete(meta, "creationTimestamp")
	}
	return m, err
}
