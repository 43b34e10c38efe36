package differential

import (
	"fmt"
	"math/rand/v2"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubectl-access/kubectl-access/rbac"
)

// universe is a seeded random RBAC world: the objects to load, the
// identities to ask about and the requests to ask.
type universe struct {
	namespaces          []string
	clusterRoles        []rbacv1.ClusterRole
	roles               []rbacv1.Role
	clusterRoleBindings []rbacv1.ClusterRoleBinding
	roleBindings        []rbacv1.RoleBinding
	identities          []rbac.Identity
	requests            []rbac.Attributes
}

var (
	verbs     = []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection", "use", "impersonate", "*"}
	groups    = []string{"", "apps", "example.com", "*"}
	resources = []string{"pods", "secrets", "configmaps", "deployments", "pods/exec", "pods/log", "*/scale", "deployments/scale", "*", "widgets", "nodes", "namespaces", "pods/*"}
	names     = []string{"n0", "n1"}
	urls      = []string{"/metrics", "/logs/*", "/api*", "*", "/healthz", "/apis/example.com/*"}
	urlVerbs  = []string{"get", "post", "*"}
	users     = []string{"alice", "bob", "carol", "dave", "6f1c2d3e-0000-4000-8000-00000000000a", "system:anonymous"}
	grps      = []string{"devs", "ops", "auditors", "b3c1e2f4-0000-4000-8000-00000000000b", "system:authenticated", "system:unauthenticated", "system:serviceaccounts"}
)

func pick[T any](r *rand.Rand, s []T) T { return s[r.IntN(len(s))] }

func some[T any](r *rand.Rand, s []T, max int) []T {
	n := 1 + r.IntN(max)
	out := make([]T, 0, n)
	seen := map[int]bool{}
	for range n {
		i := r.IntN(len(s))
		if !seen[i] {
			seen[i] = true
			out = append(out, s[i])
		}
	}
	return out
}

func randomRule(r *rand.Rand, clusterRole bool) rbacv1.PolicyRule {
	if clusterRole && r.IntN(6) == 0 {
		return rbacv1.PolicyRule{Verbs: some(r, urlVerbs, 2), NonResourceURLs: some(r, urls, 2)}
	}
	rule := rbacv1.PolicyRule{Verbs: some(r, verbs, 3), APIGroups: some(r, groups, 2), Resources: some(r, resources, 3)}
	if r.IntN(4) == 0 {
		rule.ResourceNames = some(r, names, 2)
	}
	return rule
}

func newUniverse(seed uint64) *universe {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	u := &universe{}
	for i := range 4 {
		u.namespaces = append(u.namespaces, fmt.Sprintf("ns-%d", i))
	}
	sas := []rbacv1.Subject{}
	for _, ns := range u.namespaces {
		for j := range 2 {
			sas = append(sas, rbacv1.Subject{Kind: "ServiceAccount", Namespace: ns, Name: fmt.Sprintf("sa-%d", j)})
		}
	}
	aggLabels := []string{"example.com/aggregate-to-a", "example.com/aggregate-to-b", "rbac.authorization.k8s.io/aggregate-to-view", "rbac.authorization.k8s.io/aggregate-to-edit"}
	var crNames []string
	for i := range 10 {
		cr := rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("cr-%d", i)}}
		for range 1 + r.IntN(3) {
			cr.Rules = append(cr.Rules, randomRule(r, true))
		}
		if r.IntN(3) == 0 {
			cr.Labels = map[string]string{pick(r, aggLabels): "true"}
		}
		u.clusterRoles = append(u.clusterRoles, cr)
		crNames = append(crNames, cr.Name)
	}
	for i, l := range aggLabels[:2] {
		cr := rbacv1.ClusterRole{
			ObjectMeta:      metav1.ObjectMeta{Name: fmt.Sprintf("agg-%d", i)},
			AggregationRule: &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{{MatchLabels: map[string]string{l: "true"}}}},
		}
		if i == 0 {
			cr.Labels = map[string]string{aggLabels[1]: "true"} // agg-0 aggregates into agg-1
		}
		u.clusterRoles = append(u.clusterRoles, cr)
		crNames = append(crNames, cr.Name)
	}
	crNames = append(crNames, "view", "edit", "admin", "missing-cluster-role")
	subject := func(inRoleBinding bool) rbacv1.Subject {
		switch r.IntN(4) {
		case 0:
			return rbacv1.Subject{Kind: "User", APIGroup: rbacv1.GroupName, Name: pick(r, users)}
		case 1:
			g := pick(r, grps)
			if r.IntN(4) == 0 {
				g = "system:serviceaccounts:" + pick(r, u.namespaces)
			}
			return rbacv1.Subject{Kind: "Group", APIGroup: rbacv1.GroupName, Name: g}
		case 2:
			s := pick(r, sas)
			if inRoleBinding && r.IntN(2) == 0 {
				s.Namespace = "" // the binding's namespace
			}
			return s
		}
		// A User subject spelled as a service account's user name.
		s := pick(r, sas)
		return rbacv1.Subject{Kind: "User", APIGroup: rbacv1.GroupName, Name: "system:serviceaccount:" + s.Namespace + ":" + s.Name}
	}
	for i := range 6 {
		b := rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("crb-%d", i)},
			RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: pick(r, crNames)}}
		for range 1 + r.IntN(3) {
			b.Subjects = append(b.Subjects, subject(false))
		}
		u.clusterRoleBindings = append(u.clusterRoleBindings, b)
	}
	for _, ns := range u.namespaces {
		var roleNames []string
		for j := range 2 {
			ro := rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("role-%d", j)}}
			for range 1 + r.IntN(3) {
				ro.Rules = append(ro.Rules, randomRule(r, false))
			}
			u.roles = append(u.roles, ro)
			roleNames = append(roleNames, ro.Name)
		}
		roleNames = append(roleNames, "missing-role")
		for j := range 4 {
			b := rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("rb-%d", j)}}
			if r.IntN(2) == 0 {
				b.RoleRef = rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: pick(r, roleNames)}
			} else {
				b.RoleRef = rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: pick(r, crNames)}
			}
			for range 1 + r.IntN(3) {
				b.Subjects = append(b.Subjects, subject(true))
			}
			u.roleBindings = append(u.roleBindings, b)
		}
	}
	// Identities: users with group subsets, service accounts, anonymous,
	// and one administrator.
	for _, name := range users {
		id := rbac.Subject{Kind: rbac.UserKind, Name: name, Groups: some(r, grps[:4], 2)}.Identity()
		u.identities = append(u.identities, id)
	}
	for _, s := range sas {
		u.identities = append(u.identities, rbac.Subject{Kind: rbac.ServiceAccountKind, Namespace: s.Namespace, Name: s.Name}.Identity())
	}
	u.identities = append(u.identities,
		rbac.Subject{Kind: rbac.GroupKind, Name: "devs"}.Identity(),
		rbac.Subject{Kind: rbac.UserKind, Name: "root", Groups: []string{rbac.GroupMasters}}.Identity())
	// Requests.
	reqResources := []string{"pods", "secrets", "configmaps", "deployments", "widgets", "nodes", "namespaces", "replicasets"}
	subs := []string{"", "", "", "exec", "log", "scale", "status"}
	for range 60 {
		if r.IntN(8) == 0 {
			u.requests = append(u.requests, rbac.Attributes{Verb: pick(r, []string{"get", "post", "put"}),
				Path: pick(r, []string{"/metrics", "/logs/a.log", "/logs", "/api", "/apis/example.com/v1", "/healthz", "/version"})})
			continue
		}
		a := rbac.Attributes{
			Verb:        pick(r, verbs[:10]),
			APIGroup:    pick(r, groups[:3]),
			Resource:    pick(r, reqResources),
			Subresource: pick(r, subs),
		}
		if r.IntN(2) == 0 {
			a.Name = pick(r, append(names, "other"))
		}
		if r.IntN(5) != 0 {
			a.Namespace = pick(r, u.namespaces)
		}
		u.requests = append(u.requests, a)
	}
	return u
}
