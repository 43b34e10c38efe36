package source

import (
	_ "embed"
	"encoding/json"
	"fmt"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/kubectl-access/kubectl-access/rbac"
)

// DefaultsVersion is the Kubernetes release the default roles come from.
const DefaultsVersion = "v1.37"

// Policy is Kubernetes' default RBAC policy: the ClusterRoles and Roles the
// API server creates and reconciles (labelled
// kubernetes.io/bootstrapping=rbac-defaults).
type Policy struct {
	ClusterRoles []rbacv1.ClusterRole `json:"clusterRoles"`
	Roles        []rbacv1.Role        `json:"roles"`
}

//go:embed default_roles.json
var defaultRolesJSON []byte

// Defaults returns Kubernetes' default roles, recorded from the local
// control plane (a test keeps them current: go test ./cluster -run
// TestDefaultRoles -update).
func Defaults() *Policy {
	var p Policy
	if err := json.Unmarshal(defaultRolesJSON, &p); err != nil {
		panic(fmt.Sprintf("default_roles.json: %v", err))
	}
	return &p
}

// find returns the default role a reference names.
func (p *Policy) find(ref rbac.ObjectRef) (any, bool) {
	switch ref.Kind {
	case "ClusterRole":
		for _, cr := range p.ClusterRoles {
			if cr.Name == ref.Name {
				return cr, true
			}
		}
	case "Role":
		for _, r := range p.Roles {
			if r.Name == ref.Name && r.Namespace == ref.Namespace {
				return r, true
			}
		}
	}
	return nil, false
}

// aggregatedBy lists the default ClusterRoles an aggregated one selects.
func (p *Policy) aggregatedBy(cr *rbacv1.ClusterRole) []string {
	if cr.AggregationRule == nil {
		return nil
	}
	var out []string
	for _, s := range cr.AggregationRule.ClusterRoleSelectors {
		sel, err := metav1.LabelSelectorAsSelector(&s)
		if err != nil {
			continue
		}
		for _, c := range p.ClusterRoles {
			if c.Name != cr.Name && sel.Matches(labels.Set(c.Labels)) {
				out = append(out, c.Name)
			}
		}
	}
	return out
}
