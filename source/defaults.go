package source

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
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
	// ClusterRoleBindings and RoleBindings are the default bindings the
	// API server creates (the same label).
	ClusterRoleBindings []rbacv1.ClusterRoleBinding `json:"clusterRoleBindings"`
	RoleBindings        []rbacv1.RoleBinding        `json:"roleBindings"`
}

// Pinned is the default policy held against one snapshot: which of its
// paths and objects are Kubernetes' defaults exactly as pinned.
type Pinned struct {
	path      func(*rbac.Path) bool
	unchanged map[rbac.ObjectRef]bool
}

// Pinned compares s with the policy (audit.Options.Defaults takes it).
func (p *Policy) Pinned(s *rbac.Snapshot) *Pinned {
	pin := &Pinned{path: p.DefaultPath(s), unchanged: map[rbac.ObjectRef]bool{}}
	for i := range s.ClusterRoles {
		cr := &s.ClusterRoles[i]
		if d, ok := p.find(rbac.ObjectRef{Kind: "ClusterRole", Name: cr.Name}); ok {
			pinned := d.(rbacv1.ClusterRole)
			same := equality.Semantic.DeepEqual(cr.AggregationRule, pinned.AggregationRule) &&
				(cr.AggregationRule != nil || equality.Semantic.DeepEqual(cr.Rules, pinned.Rules))
			pin.unchanged[rbac.ObjectRef{Kind: "ClusterRole", Name: cr.Name}] = same
		}
	}
	for i := range s.Roles {
		r := &s.Roles[i]
		ref := rbac.ObjectRef{Kind: "Role", Name: r.Name, Namespace: r.Namespace}
		if d, ok := p.find(ref); ok {
			pin.unchanged[ref] = equality.Semantic.DeepEqual(r.Rules, d.(rbacv1.Role).Rules)
		}
	}
	for ref, ok := range p.unchangedBindings(s) {
		pin.unchanged[ref] = ok
	}
	return pin
}

// Path says whether a grant path runs through the default policy as pinned.
func (p *Pinned) Path(path *rbac.Path) bool { return p.path(path) }

// Object says whether an object is a default one, unchanged.
func (p *Pinned) Object(ref rbac.ObjectRef) bool { return p.unchanged[ref] }

// unchangedBindings are the bindings of s that are default ones with their
// role and subjects as pinned.
func (p *Policy) unchangedBindings(s *rbac.Snapshot) map[rbac.ObjectRef]bool {
	unchanged := map[rbac.ObjectRef]bool{}
	pinnedCRB := map[string]*rbacv1.ClusterRoleBinding{}
	for i := range p.ClusterRoleBindings {
		pinnedCRB[p.ClusterRoleBindings[i].Name] = &p.ClusterRoleBindings[i]
	}
	for i := range s.ClusterRoleBindings {
		b := &s.ClusterRoleBindings[i]
		if d := pinnedCRB[b.Name]; d != nil && sameGrant(b.RoleRef, d.RoleRef, b.Subjects, d.Subjects) {
			unchanged[rbac.ObjectRef{Kind: "ClusterRoleBinding", Name: b.Name}] = true
		}
	}
	pinnedRB := map[[2]string]*rbacv1.RoleBinding{}
	for i := range p.RoleBindings {
		pinnedRB[[2]string{p.RoleBindings[i].Namespace, p.RoleBindings[i].Name}] = &p.RoleBindings[i]
	}
	for i := range s.RoleBindings {
		b := &s.RoleBindings[i]
		if d := pinnedRB[[2]string{b.Namespace, b.Name}]; d != nil && sameGrant(b.RoleRef, d.RoleRef, b.Subjects, d.Subjects) {
			unchanged[rbac.ObjectRef{Kind: "RoleBinding", Name: b.Name, Namespace: b.Namespace}] = true
		}
	}
	return unchanged
}

// DefaultPath returns whether a grant path of s runs through the default
// policy exactly as pinned here: a default binding whose role and
// subjects are unchanged, naming a default role that holds the path's rule
// as pinned. A label says who reconciles an object, which anyone who
// writes the object can claim; only this comparison says a grant is the
// platform's own. system:masters (no binding) is never a default path.
func (p *Policy) DefaultPath(s *rbac.Snapshot) func(*rbac.Path) bool {
	unchanged := p.unchangedBindings(s)
	return func(path *rbac.Path) bool {
		switch {
		case path.Azure != nil:
			return false
		case path.Binding == nil:
			// A role's own rule (aggregation-latent-grant): the role
			// decides; system:masters' path names no role.
			if path.Role.Kind != "ClusterRole" && path.Role.Kind != "Role" {
				return false
			}
		case !unchanged[*path.Binding]:
			return false
		}
		role, ok := p.find(path.Role)
		if !ok {
			return false
		}
		var rules []rbacv1.PolicyRule
		switch r := role.(type) {
		case rbacv1.ClusterRole:
			rules = r.Rules
			if r.AggregationRule != nil {
				// An aggregated default role's rules are its sources'.
				for _, name := range p.aggregatedBy(&r) {
					if src, ok := p.find(rbac.ObjectRef{Kind: "ClusterRole", Name: name}); ok {
						rules = append(rules, src.(rbacv1.ClusterRole).Rules...)
					}
				}
			}
		case rbacv1.Role:
			rules = r.Rules
		}
		return slices.ContainsFunc(rules, func(r rbacv1.PolicyRule) bool { return equality.Semantic.DeepEqual(r, path.Rule) })
	}
}

// sameGrant compares a binding's role and subjects with the pinned ones'.
func sameGrant(ref, pinnedRef rbacv1.RoleRef, subjects, pinned []rbacv1.Subject) bool {
	// Semantic equality takes a nil list for an empty one.
	return ref == pinnedRef && equality.Semantic.DeepEqual(subjects, pinned)
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
